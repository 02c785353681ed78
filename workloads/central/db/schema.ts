import type { Generated, Insertable, Selectable } from "kysely";

/**
 * The central results database, as Kysely sees it. Timestamps are ISO-8601 text, epoch
 * milliseconds are integers, booleans are 0/1, structured values (parameters, details) are JSON
 * text: the same representation on SQLite and PostgreSQL, so one query layer serves both.
 */

export interface EnvironmentsTable {
  environment_id: string;
  name: string;
  first_seen_at: string;
}

export interface CyclesTable {
  cycle_id: string;
  tier: string;
  suite_id: string;
  plan_hash: string;
  started_at: string;
  first_imported_at: string;
}

/** One bundle = one environment's run of one cycle. `bundle_key` is the compact key children use. */
export interface BundlesTable {
  bundle_key: Generated<number>;
  bundle_id: string;
  cycle_id: string;
  environment_id: string;
  tier: string;
  suite_id: string;
  region: string;
  region_role: string;
  plan_hash: string;
  config_hash: string;
  created_at: string;
  started_at: string;
  ended_at: string | null;
  status: string;
  verdict: string;
  reason: string | null;
  saturation_rps: number | null;
  calibration: string | null;
  tools: string;
  key_id: string;
  archive_sha256: string;
  archive_bytes: number;
  manifest: string;
  results_count: number;
  samples_count: number;
  events_count: number;
  imported_at: string;
  /** The environment's name in this bundle's cycle.json (null for bundles imported before 003). */
  environment_name: string | null;
}

export interface PhasesTable {
  bundle_key: number;
  phase: string;
  phase_index: number;
  status: string;
  started_at: string | null;
  ended_at: string | null;
  planned_duration_ms: number;
  duration_ms: number | null;
  target_rps: number | null;
  achieved_rps: number | null;
  requests: number;
  errors: number;
  error_rate: number | null;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
  cpu_min: number | null;
  cpu_max: number | null;
  cpu_mean: number | null;
  cpu_p95: number | null;
  cpu_reached: number | null;
  mem_min: number | null;
  mem_max: number | null;
  mem_mean: number | null;
  mem_p95: number | null;
  mem_reached: number | null;
  gate_verdict: string;
}

export interface GateVerdictsTable {
  bundle_key: number;
  rule_id: string;
  phase: string;
  check_name: string;
  source: string;
  action: string;
  metric: string | null;
  op: string | null;
  threshold: number | null;
  observed: number | null;
  outcome: string;
  note: string | null;
}

export interface ResultsTable {
  result_id: string;
  bundle_key: number;
  test_id: string;
  test_name: string;
  phase: string;
  tool: string;
  tool_version: string | null;
  contract: string;
  status: string;
  reason: string | null;
  validation_status: string;
  parameters: string;
  errors: string;
  raw: string;
  started_at: string;
  ended_at: string;
  duration_ms: number;
  exit_code: number | null;
  attempt: number;
}

/**
 * A result's metric: a number in `value_num`, a string in `value_text`, a boolean as 0/1 in
 * `value_bool` (before 003 booleans were the text "true"/"false" in `value_text`).
 */
export interface MetricsTable {
  result_id: string;
  name: string;
  value_num: number | null;
  value_text: string | null;
  unit: string | null;
  value_bool: number | null;
}

export interface ContractChecksTable {
  result_id: string;
  check_name: string;
  outcome: string;
}

export interface SamplesTable {
  bundle_key: number;
  /** Line number in samples.ndjson (1-based). */
  seq: number;
  ts_ms: number;
  phase: string | null;
  series: string;
  value: number;
}

export interface EventsTable {
  bundle_key: number;
  seq: number;
  ts_ms: number;
  phase: string | null;
  kind: string;
  scenario: string | null;
  detail: string;
}

/** A fault from `fault.applied` to its `fault.undone` (null while never undone). */
export interface FaultInjectionsTable {
  bundle_key: number;
  seq: number;
  phase: string | null;
  scenario: string;
  applied_ms: number;
  undone_ms: number | null;
  /** Injection → the SUT's first failed probe, ms; null: no probe failed (or not measured). */
  detection_ms: number | null;
  /** First failed probe → healthy again, ms; null: not healthy again (or nothing to recover). */
  recovery_ms: number | null;
}

/** Summary statistics per bundle × phase × metric, computed at import from samples or results. */
export interface MetricStatsTable {
  bundle_key: number;
  phase: string;
  metric: string;
  source: string;
  unit: string | null;
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  min: number;
  max: number;
  stddev: number | null;
  ci_low: number | null;
  ci_high: number | null;
}

export interface CentralDatabase {
  environments: EnvironmentsTable;
  cycles: CyclesTable;
  bundles: BundlesTable;
  phases: PhasesTable;
  gate_verdicts: GateVerdictsTable;
  results: ResultsTable;
  metrics: MetricsTable;
  contract_checks: ContractChecksTable;
  samples: SamplesTable;
  events: EventsTable;
  fault_injections: FaultInjectionsTable;
  metric_stats: MetricStatsTable;
}

/** Tables in the order a bundle's rows are inserted (parents first). */
export const CENTRAL_TABLES = [
  "environments",
  "cycles",
  "bundles",
  "phases",
  "gate_verdicts",
  "results",
  "metrics",
  "contract_checks",
  "samples",
  "events",
  "fault_injections",
  "metric_stats",
] as const satisfies readonly (keyof CentralDatabase)[];

export type BundleRow = Selectable<BundlesTable>;
export type NewBundle = Insertable<BundlesTable>;
export type PhaseRow = Selectable<PhasesTable>;
export type MetricStatsRow = Selectable<MetricStatsTable>;
export type GateVerdictRow = Selectable<GateVerdictsTable>;
