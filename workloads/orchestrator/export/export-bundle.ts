import { readFile, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { ExitCode, TiersError } from "../../../tiers/errors.js";
import { canonicalJson, sha256Hex } from "../../../tiers/plan/hash.js";
import type { PlanEnvironment } from "../../../tiers/plan/schema.js";
import { storable } from "../../bundle/json-check.js";
import type { SigningKey } from "../../bundle/keys.js";
import { BundleWriter, type WrittenBundle } from "../../bundle/writer.js";
import { notRunSummary, type CycleSummary } from "../../shared/cycle.js";
import { SpanRecord } from "../../shared/trace.js";
import type { EnvStore } from "../storage/env-store.js";

export interface ExportOptions {
  readonly store: EnvStore;
  readonly cycleId: string;
  readonly key: SigningKey;
  /** Where the environment's raw tool outputs are (`<result_id>.stdout` …). */
  readonly rawDir: string;
  readonly outDir: string;
  /** What configured this environment beyond the plan (no secrets), hashed into the manifest. */
  readonly config: Readonly<Record<string, unknown>>;
  /** The cycle's offline spans (`<data_dir>/traces/<cycle>.ndjson`), if it has any. */
  readonly traceFile?: string;
}

export interface ExportedBundle {
  readonly bundle_id: string;
  readonly cycle_id: string;
  readonly file: string;
  readonly size: number;
  readonly sha256: string;
  readonly created: boolean;
}

/** The cycle as the bundle's `cycle.json` records it, from the environment's store. */
export function cycleSummaryOf(store: EnvStore, cycleId: string): CycleSummary {
  const c = store.getCycle(cycleId)!;
  const env = c.plan.environments.find((e) => e.id === c.environment) as PlanEnvironment;
  const rows = new Map(store.phases(cycleId).map((p) => [p.name, p]));
  return {
    cycle_id: c.cycle_id,
    plan_hash: c.plan_hash,
    tier: c.plan.tier.name,
    suite_id: c.plan.suite.id,
    environment: { id: env.id, name: env.name, region: env.region, role: env.role },
    started_at: c.started_at,
    ended_at: c.ended_at,
    status: c.status === "running" ? "interrupted" : c.status,
    verdict: c.verdict ?? "failed",
    ...(c.reason ? { reason: c.reason } : {}),
    calibration: c.calibration,
    phases: env.phases.map((p) => {
      const row = rows.get(p.name);
      return row?.summary ?? notRunSummary(p);
    }),
  };
}

/**
 * Exports a finished cycle as a signed Bundle v1 (`<env>-<cycle>.tar.gz` in `outDir`): every
 * committed Result with its raw outputs, the samples of each phase's last attempt, the events,
 * and `cycle.json`. A cycle already exported returns its bundle unchanged (one bundle per
 * environment per cycle), so the centre never sees the same results under two bundle ids.
 */
export async function exportBundle(options: ExportOptions): Promise<ExportedBundle> {
  const { store, cycleId } = options;
  const cycle = store.getCycle(cycleId);
  if (!cycle) throw new TiersError(ExitCode.InvalidConfig, `no cycle ${cycleId} in ${store.file}`);
  if (cycle.status === "running") {
    throw new TiersError(
      ExitCode.InvalidConfig,
      `cycle ${cycleId} is still running (or was killed: resume it first)`,
    );
  }
  const existing = store.bundles(cycleId)[0];
  if (existing) {
    const present = await stat(existing.file).then(
      (s) => s.size === existing.size,
      () => false,
    );
    if (present) return { ...existing, created: false };
  }
  const env = cycle.plan.environments.find((e) => e.id === cycle.environment)!;
  const results = [...store.results(cycleId)];
  const tools = new Map<string, string | null>();
  for (const r of results)
    if (!tools.has(r.tool.name) || tools.get(r.tool.name) === null) tools.set(r.tool.name, r.tool.version);
  const writer = await BundleWriter.create({
    key: options.key,
    identity: {
      cycle_id: cycleId,
      tier: cycle.plan.tier.name,
      region: env.region,
      region_role: env.role,
      environment: env.id,
      plan_hash: cycle.plan_hash,
      config_hash: sha256Hex(canonicalJson({ environment: env, config: options.config })),
      tools: [...tools].sort(([a], [b]) => a.localeCompare(b)).map(([name, version]) => ({ name, version })),
    },
    stagingParent: options.outDir,
  });
  try {
    for (const r of results) {
      for (const ref of [r.raw.stdout, r.raw.stderr, ...(r.raw.files ?? [])]) {
        if (ref === undefined) continue;
        const name = basename(ref);
        const content = await readFile(join(options.rawDir, name)).catch(() =>
          Buffer.from(`(raw output ${name} was not found in the environment's raw directory)\n`),
        );
        await writer.addRaw(name, content);
      }
      await writer.addResult(storable(r));
    }
    // Reasons and event details may quote a tool or an error: NUL and broken text are made storable.
    for (const s of store.samples(cycleId)) await writer.addSample(s);
    for (const e of store.events(cycleId)) await writer.addEvent(storable(e));
    if (options.traceFile)
      for (const s of await readSpans(options.traceFile, cycleId)) await writer.addSpan(s);
    writer.setCycle(storable(cycleSummaryOf(store, cycleId)));
    const written: WrittenBundle = await writer.finish(options.outDir, { intoDirectory: true });
    const sha256 = sha256Hex(await readFile(written.path));
    store.recordBundle({
      bundle_id: written.manifest.bundle_id,
      cycle_id: cycleId,
      file: written.path,
      sha256,
      size: written.bytes,
    });
    return {
      bundle_id: written.manifest.bundle_id,
      cycle_id: cycleId,
      file: written.path,
      size: written.bytes,
      sha256,
      created: true,
    };
  } catch (error) {
    await writer.abort().catch(() => undefined);
    throw error;
  }
}

/**
 * The spans the offline exporter wrote for a cycle: each line that is a whole span record of this
 * cycle, once per span id. A line cut short by a kill (the last one) is left out, not fatal.
 */
async function readSpans(file: string, cycleId: string): Promise<SpanRecord[]> {
  const text = await readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return "";
    throw error;
  });
  const seen = new Set<string>();
  const spans: SpanRecord[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      continue;
    }
    const parsed = SpanRecord.safeParse(value);
    if (!parsed.success || parsed.data.cycle_id !== cycleId || seen.has(parsed.data.span_id)) continue;
    seen.add(parsed.data.span_id);
    spans.push(storable(parsed.data));
  }
  return spans;
}
