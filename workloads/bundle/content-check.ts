import { resultMetricName } from "../shared/metric-names.js";
import type { BundleManifest } from "../shared/bundle-manifest.js";
import type { CycleSummary, Sample } from "../shared/cycle.js";
import type { Result } from "../shared/result.js";
import type { SpanRecord } from "../shared/trace.js";
import { BundleError } from "./errors.js";
import { FORMAT_BOUNDS } from "./limits.js";

/**
 * What a bundle's content can get wrong although every line is valid JSON of the right shape and
 * the manifest is signed — a compromised or buggy environment signs whatever it produces. Each is
 * refused as `malformed_content` before the centre writes a row, and `orchestrator verify-bundle`
 * runs the same checks, so it never says "verified" about a bundle the centre would refuse.
 */

const content = (where: string, detail: string) =>
  new BundleError("malformed_content", `${where}: ${detail}`);

/** An end before its start (ISO-8601 times); null on either side is "not known", not an error. */
function checkOrder(where: string, what: string, started: string | null, ended: string | null): void {
  if (started === null || ended === null) return;
  if (Date.parse(ended) < Date.parse(started))
    throw content(where, `${what} ends (${ended}) before it starts (${started})`);
}

function checkInt32(where: string, field: string, value: number | null): void {
  if (value !== null && (value < FORMAT_BOUNDS.minInt32 || value > FORMAT_BOUNDS.maxInt32))
    throw content(where, `${field} ${value} does not fit 32 bits`);
}

/** cycle.json: its times, each phase once with its own times, each gate rule id once in the cycle. */
export function checkCycleContent(cycle: CycleSummary, where: string): void {
  checkOrder(where, "the cycle", cycle.started_at, cycle.ended_at);
  const phases = new Set<string>();
  const rules = new Map<string, string>();
  cycle.phases.forEach((p, i) => {
    const at = `${where} phases[${i}]`;
    if (phases.has(p.name)) throw content(at, `phase ${p.name} appears twice`);
    phases.add(p.name);
    checkInt32(at, "index", p.index);
    checkOrder(at, `phase ${p.name}`, p.started_at, p.ended_at);
    for (const r of p.gate.rules) {
      const first = rules.get(r.id);
      if (first !== undefined)
        throw content(at, `gate rule ${JSON.stringify(r.id)} appears twice (also in phase ${first})`);
      rules.set(r.id, p.name);
    }
  });
}

/** results.ndjson, line by line: ids, the manifest's cycle and environment, each result and test once. */
export class ResultChecks {
  private readonly ids = new Map<string, string>();
  private readonly tests = new Map<string, string>();

  /** `listed`: the bundle's files, for raw references (the writer checks those when it finishes). */
  constructor(
    private readonly m: Pick<BundleManifest, "cycle_id" | "environment">,
    private readonly listed?: ReadonlySet<string>,
  ) {}

  static forManifest(manifest: BundleManifest): ResultChecks {
    return new ResultChecks(manifest, new Set(manifest.files.map((f) => f.path)));
  }

  check(r: Result, where: string): void {
    const m = this.m;
    if (r.cycle_id !== m.cycle_id)
      throw new BundleError(
        "cycle_mismatch",
        `${where}: result names cycle ${r.cycle_id}, the manifest ${m.cycle_id}`,
      );
    if (r.environment !== m.environment)
      throw new BundleError(
        "environment_mismatch",
        `${where}: result names environment ${r.environment}, the manifest ${m.environment}`,
      );
    const first = this.ids.get(r.result_id);
    if (first !== undefined) throw content(where, `result_id ${r.result_id} already appears at ${first}`);
    this.ids.set(r.result_id, where);
    const sameTest = this.tests.get(r.test_id);
    if (sameTest !== undefined)
      throw content(where, `test ${JSON.stringify(r.test_id)} has a result already (${sameTest})`);
    this.tests.set(r.test_id, where);
    checkOrder(where, `result ${r.result_id}`, r.timings.started_at, r.timings.ended_at);
    checkInt32(where, "exit_code", r.exit_code);
    checkInt32(where, "attempt", r.attempt);
    if (this.listed)
      for (const ref of [r.raw.stdout, r.raw.stderr, ...(r.raw.files ?? [])])
        if (ref !== undefined && !this.listed.has(ref))
          throw new BundleError(
            "dangling_reference",
            `${where}: result ${r.result_id} points to ${ref}, which the bundle lacks`,
          );
  }
}

/**
 * The statistics key (phase, metric) of every numeric result metric, as the importer computes
 * them: a sample series of the same phase under the same name would collide with it.
 */
export function resultMetricKeys(results: readonly Result[]): ReadonlySet<string> {
  const keys = new Set<string>();
  for (const r of results) {
    if (r.status === "skipped" || r.status === "invalid") continue;
    for (const [name, m] of Object.entries(r.metrics))
      if (typeof m.value === "number") keys.add(`${r.phase}\u0000${resultMetricName(r.test_name, name)}`);
  }
  return keys;
}

/** samples.ndjson, per line: a series must not collide with a result metric's statistics name. */
export function sampleChecker(results: readonly Result[]): (s: Sample, where: string) => void {
  const keys = resultMetricKeys(results);
  return (s, where) => {
    // Result metric names have a ':'; dotted series names (the usual ones) cannot collide.
    if (s.phase !== null && s.series.includes(":") && keys.has(`${s.phase}\u0000${s.series}`))
      throw content(
        where,
        `series ${JSON.stringify(s.series)} in phase ${s.phase} collides with a result metric of the same name`,
      );
  };
}

/**
 * traces.ndjson, line by line: each span of the manifest's cycle, its id once in the bundle, not
 * its own parent, ending after it starts.
 */
export class SpanChecks {
  private readonly ids = new Map<string, string>();

  constructor(private readonly m: Pick<BundleManifest, "cycle_id">) {}

  check(s: SpanRecord, where: string): void {
    if (s.cycle_id !== this.m.cycle_id)
      throw new BundleError(
        "cycle_mismatch",
        `${where}: span names cycle ${s.cycle_id}, the manifest ${this.m.cycle_id}`,
      );
    const first = this.ids.get(s.span_id);
    if (first !== undefined) throw content(where, `span_id ${s.span_id} already appears at ${first}`);
    this.ids.set(s.span_id, where);
    if (s.parent_span_id === s.span_id) throw content(where, `span ${s.span_id} is its own parent`);
    if (s.end_us < s.start_us)
      throw content(where, `span ${s.span_id} ends (${s.end_us} µs) before it starts (${s.start_us} µs)`);
  }
}
