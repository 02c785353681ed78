import type { Kysely } from "kysely";
import type { CentralDatabase } from "../db/schema.js";
import { countVerdicts, DEFAULT_THRESHOLDS, type Thresholds } from "./compare.js";
import { comparePeers, compareRuns } from "./comparisons.js";
import { buildHistory, HISTORY_METRICS } from "./history.js";
import {
  contractChecksOf,
  faultsOf,
  gatesOf,
  groupSamples,
  historyOf,
  lastPassingCycleBefore,
  loadCycle,
  phasesOf,
  samplesOf,
  statsOf,
  type SampleRow,
  type StoredBundle,
} from "./queries.js";
import type { BandReport, ContractReport, CycleReport, TimelineSeries } from "./report-model.js";

/** The calibration's rate choice, from its stored JSON (a bundle before it was recorded: `saturation`). */
function rateChoice(
  json: string | null,
): Pick<CycleReport["environments"][number], "rate_basis" | "cpu_ms_per_request" | "saturation_cpu_pct"> {
  const none = { rate_basis: null, cpu_ms_per_request: null, saturation_cpu_pct: null };
  if (json === null) return none;
  let c: Record<string, unknown>;
  try {
    c = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return none;
  }
  const cost = typeof c.cpu_s_per_request === "number" ? c.cpu_s_per_request : null;
  const cores = typeof c.cores === "number" ? c.cores : null;
  const saturation = typeof c.saturation_rps === "number" ? c.saturation_rps : null;
  return {
    rate_basis: c.rate_basis === "cpu" ? "cpu" : "saturation",
    cpu_ms_per_request: cost === null ? null : cost * 1000,
    saturation_cpu_pct:
      cost === null || cores === null || saturation === null ? null : ((saturation * cost) / cores) * 100,
  };
}

export interface ReportOptions {
  /** Cycle to report on; default the most recent. */
  readonly cycleId?: string;
  /** Baseline cycle; default the last passing run of the same tier and suite. */
  readonly baseline?: string;
  readonly thresholds?: Thresholds;
  readonly now?: Date;
}

/** Series drawn on the timeline, and how many points each keeps. */
export const TIMELINE_SERIES = [
  "load.rps",
  "load.p99_ms",
  "load.errors",
  "sut.cpu_pct",
  "sut.mem_pct",
] as const;
export const TIMELINE_POINTS = 240;

function timeline(rows: readonly SampleRow[], bundles: readonly StoredBundle[]): TimelineSeries[] {
  const out: TimelineSeries[] = [];
  const wanted = new Set<string>(TIMELINE_SERIES);
  for (const b of bundles) {
    const mine = rows.filter((r) => r.bundle_key === b.bundle_key && wanted.has(r.series));
    if (mine.length === 0) continue;
    let lo = Infinity;
    let hi = -Infinity;
    for (const r of mine) {
      lo = Math.min(lo, r.ts_ms);
      hi = Math.max(hi, r.ts_ms);
    }
    const width = Math.max(1, (hi - lo + 1) / TIMELINE_POINTS);
    for (const series of TIMELINE_SERIES) {
      const buckets = new Map<number, { t: number; sum: number; n: number }>();
      for (const r of mine) {
        if (r.series !== series) continue;
        const k = Math.floor((r.ts_ms - lo) / width);
        const bucket = buckets.get(k) ?? { t: 0, sum: 0, n: 0 };
        bucket.t += r.ts_ms;
        bucket.sum += r.value;
        bucket.n++;
        buckets.set(k, bucket);
      }
      if (buckets.size === 0) continue;
      const points = [...buckets.values()]
        .map((x) => [Math.round(x.t / x.n), x.sum / x.n] as const)
        .sort((a, c) => a[0] - c[0]);
      out.push({ environment_id: b.environment_id, series, points });
    }
  }
  return out;
}

const band = (
  min: number | null,
  max: number | null,
  mean: number | null,
  p95: number | null,
  reached: number | null,
): BandReport | null =>
  min === null && max === null && mean === null
    ? null
    : { min, max, mean, p95, reached: reached === null ? null : reached === 1 };

/** Builds the whole report of one cycle from the database. */
export async function buildCycleReport(
  db: Kysely<CentralDatabase>,
  options: ReportOptions = {},
): Promise<CycleReport> {
  const thresholds = options.thresholds ?? DEFAULT_THRESHOLDS;
  const { cycle, bundles } = await loadCycle(db, options.cycleId);
  const keys = bundles.map((b) => b.bundle_key);
  const envOf = new Map(bundles.map((b) => [b.bundle_key, b]));
  const env = (key: number) => envOf.get(key)!.environment_id;

  const baselineId = options.baseline ?? (await lastPassingCycleBefore(db, cycle));
  const baseline = baselineId ? await loadCycle(db, baselineId) : undefined;
  const sampleRows = await samplesOf(db, [...keys, ...(baseline?.bundles.map((b) => b.bundle_key) ?? [])]);
  const grouped = groupSamples(sampleRows);

  const [phases, gates, checks, stats, faults, history] = await Promise.all([
    phasesOf(db, keys),
    gatesOf(db, keys),
    contractChecksOf(db, keys),
    statsOf(db, keys),
    faultsOf(db, keys),
    historyOf(db, cycle, HISTORY_METRICS),
  ]);

  const contracts = new Map<string, ContractReport & { checks: { name: string; outcome: string }[] }>();
  for (const c of checks) {
    let r = contracts.get(c.result_id);
    if (!r) {
      r = {
        environment_id: env(c.bundle_key),
        phase: c.phase,
        test_id: c.test_id,
        test_name: c.test_name,
        tool: c.tool,
        contract: c.contract,
        result_id: c.result_id,
        status: c.status,
        reason: c.reason,
        duration_ms: c.duration_ms,
        checks: [],
      };
      contracts.set(c.result_id, r);
    }
    if (c.check_name !== null && c.outcome !== null)
      r.checks.push({ name: c.check_name, outcome: c.outcome });
  }

  const changes = baseline ? compareRuns(baseline.bundles, bundles, grouped, thresholds) : [];
  const regionsShared = new Set(bundles.map((b) => b.region)).size < bundles.length;
  const historySeries = buildHistory(history);
  const phaseReports = phases.map((p) => ({
    environment_id: env(p.bundle_key),
    region: envOf.get(p.bundle_key)!.region,
    phase: p.phase,
    index: p.phase_index,
    status: p.status,
    started_at: p.started_at,
    ended_at: p.ended_at,
    duration_ms: p.duration_ms,
    target_rps: p.target_rps,
    achieved_rps: p.achieved_rps,
    requests: p.requests,
    errors: p.errors,
    error_rate: p.error_rate,
    p50_ms: p.p50_ms,
    p95_ms: p.p95_ms,
    p99_ms: p.p99_ms,
    cpu: band(p.cpu_min, p.cpu_max, p.cpu_mean, p.cpu_p95, p.cpu_reached),
    memory: band(p.mem_min, p.mem_max, p.mem_mean, p.mem_p95, p.mem_reached),
    gate_verdict: p.gate_verdict,
  }));
  const verdicts = countVerdicts(changes);
  const contractList = [...contracts.values()];
  const allChecks = contractList.flatMap((c) => c.checks);
  const bands = phaseReports
    .flatMap((p) => [p.cpu?.reached, p.memory?.reached])
    .filter((r) => r !== null && r !== undefined);
  const verdict = bundles.every((b) => b.verdict === "passed") ? "passed" : "failed";
  return {
    kind: "test-tiers/cycle-report",
    version: 1,
    generated_at: (options.now ?? new Date()).toISOString(),
    cycle: {
      cycle_id: cycle.cycle_id,
      tier: cycle.tier,
      suite_id: cycle.suite_id,
      plan_hash: cycle.plan_hash,
      started_at: cycle.started_at,
      // The last environment's end; unknown while any environment has none.
      ended_at: bundles.some((b) => b.ended_at === null)
        ? null
        : bundles
            .map((b) => b.ended_at!)
            .sort()
            .at(-1)!,
      verdict,
    },
    environments: bundles.map((b) => ({
      environment_id: b.environment_id,
      region: b.region,
      region_role: b.region_role,
      bundle_id: b.bundle_id,
      status: b.status,
      verdict: b.verdict,
      reason: b.reason,
      started_at: b.started_at,
      ended_at: b.ended_at,
      saturation_rps: b.saturation_rps,
      ...rateChoice(b.calibration),
      key_id: b.key_id,
      archive_sha256: b.archive_sha256,
      counts: { results: b.results_count, samples: b.samples_count, events: b.events_count },
    })),
    phases: phaseReports,
    gates: gates.map((g) => ({
      environment_id: env(g.bundle_key),
      phase: g.phase,
      rule_id: g.rule_id,
      check: g.check_name,
      source: g.source,
      action: g.action,
      metric: g.metric,
      op: g.op,
      threshold: g.threshold,
      observed: g.observed,
      outcome: g.outcome,
      note: g.note,
    })),
    contracts: contractList,
    statistics: stats.map((s) => ({
      environment_id: env(s.bundle_key),
      phase: s.phase,
      metric: s.metric,
      source: s.source,
      unit: s.unit,
      count: s.count,
      mean: s.mean,
      p50: s.p50,
      p90: s.p90,
      p99: s.p99,
      min: s.min,
      max: s.max,
      stddev: s.stddev,
      ci95: s.ci_low === null || s.ci_high === null ? null : [s.ci_low, s.ci_high],
    })),
    faults: faults.map((f) => ({
      environment_id: env(f.bundle_key),
      phase: f.phase,
      scenario: f.scenario,
      applied_ms: f.applied_ms,
      undone_ms: f.undone_ms,
      detection_ms: f.detection_ms === null ? null : Number(f.detection_ms),
      recovery_ms: f.recovery_ms === null ? null : Number(f.recovery_ms),
    })),
    timeline: timeline(sampleRows, bundles),
    comparison: {
      baseline: baseline?.cycle.cycle_id ?? null,
      selected: options.baseline ? "given" : baseline ? "last_passing_run" : "none",
      note: baseline
        ? null
        : `no earlier passing run of tier ${cycle.tier}, suite ${cycle.suite_id} to compare with`,
      thresholds,
      counts: verdicts,
      changes,
    },
    peers: {
      by_environment: comparePeers(bundles, grouped, (b) => b.environment_id, thresholds),
      by_region: regionsShared ? comparePeers(bundles, grouped, (b) => b.region, thresholds) : null,
    },
    history: {
      runs: new Set(history.map((h) => h.cycle_id)).size,
      metrics: HISTORY_METRICS,
      series: historySeries,
    },
    summary: {
      verdict,
      environments: bundles.length,
      phases_run: phaseReports.filter((p) => p.status === "completed").length,
      gate_rules: {
        passed: gates.filter((g) => g.outcome === "pass").length,
        failed_abort: gates.filter((g) => g.outcome === "fail" && g.action === "abort").length,
        failed_warn: gates.filter((g) => g.outcome === "fail" && g.action === "warn").length,
        not_evaluated: gates.filter((g) => g.outcome === "not_evaluated").length,
      },
      contract_checks: {
        passed: allChecks.filter((c) => c.outcome === "passed").length,
        failed: allChecks.filter((c) => c.outcome === "failed").length,
      },
      bands: {
        reached: bands.filter((r) => r === true).length,
        missed: bands.filter((r) => r === false).length,
      },
      regressions: verdicts.regressed,
      improvements: verdicts.improved,
      change_points: historySeries.reduce((n, s) => n + s.change_points.length, 0),
    },
  };
}
