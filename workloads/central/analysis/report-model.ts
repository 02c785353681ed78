import type { Thresholds, Verdict } from "./compare.js";
import type { PeerComparison, RunChange } from "./comparisons.js";
import type { HistorySeries } from "./history.js";

/**
 * Everything a report says about one cycle, machine-readable: the JSON report is this object,
 * and the HTML, Markdown and JUnit reports are views of it.
 */
export interface CycleReport {
  readonly kind: "test-tiers/cycle-report";
  readonly version: 1;
  readonly generated_at: string;
  readonly cycle: {
    readonly cycle_id: string;
    readonly tier: string;
    readonly suite_id: string;
    readonly plan_hash: string;
    readonly started_at: string;
    readonly ended_at: string | null;
    /** passed when every environment's bundle says passed. */
    readonly verdict: "passed" | "failed";
  };
  readonly environments: readonly EnvironmentReport[];
  readonly phases: readonly PhaseReport[];
  readonly gates: readonly GateReport[];
  readonly contracts: readonly ContractReport[];
  readonly statistics: readonly StatisticReport[];
  readonly faults: readonly FaultReport[];
  readonly timeline: readonly TimelineSeries[];
  readonly comparison: {
    readonly baseline: string | null;
    readonly selected: "given" | "last_passing_run" | "none";
    readonly note: string | null;
    readonly thresholds: Thresholds;
    readonly counts: Record<Verdict, number>;
    readonly changes: readonly RunChange[];
  };
  readonly peers: {
    readonly by_environment: readonly PeerComparison[];
    /** null when every region has one environment (then it equals by_environment). */
    readonly by_region: readonly PeerComparison[] | null;
  };
  readonly history: {
    readonly runs: number;
    readonly metrics: readonly string[];
    readonly series: readonly HistorySeries[];
  };
  /** Alerts the run's Prometheus reported firing (`tiers local --monitoring`); absent without monitoring. */
  readonly monitoring?: {
    readonly source: string;
    readonly alerts: readonly MonitoringAlert[];
    /** The generated dashboards' panel queries, run against that Prometheus over the run. */
    readonly dashboard_queries?: { readonly total: number; readonly empty: readonly string[] };
  };
  readonly summary: {
    readonly verdict: "passed" | "failed";
    readonly environments: number;
    readonly phases_run: number;
    readonly gate_rules: {
      readonly passed: number;
      readonly failed_abort: number;
      readonly failed_warn: number;
      readonly not_evaluated: number;
    };
    readonly contract_checks: { readonly passed: number; readonly failed: number };
    readonly bands: { readonly reached: number; readonly missed: number };
    readonly regressions: number;
    readonly improvements: number;
    readonly change_points: number;
  };
}

/** An alert a run's Prometheus reported firing, from its first to its last firing evaluation. */
export interface MonitoringAlert {
  readonly alert: string;
  readonly severity: string;
  readonly environment: string;
  readonly action: string;
  readonly first_firing_at: string;
  readonly last_firing_at: string;
}

export interface EnvironmentReport {
  readonly environment_id: string;
  readonly region: string;
  readonly region_role: string;
  readonly bundle_id: string;
  readonly status: string;
  readonly verdict: string;
  readonly reason: string | null;
  readonly started_at: string;
  readonly ended_at: string | null;
  readonly saturation_rps: number | null;
  /**
   * How the calibration turned relative fractions into rates: `cpu` (a fraction of the SUT's CPU
   * share through the CPU a request costs, at most the saturation) or `saturation` (a fraction of
   * it); null without a calibration.
   */
  readonly rate_basis: "cpu" | "saturation" | null;
  /** The SUT's CPU milliseconds a request at saturation; null where not measured. */
  readonly cpu_ms_per_request: number | null;
  /** The SUT's CPU, % of its share, at the saturation: the highest CPU a phase's rate can reach. */
  readonly saturation_cpu_pct: number | null;
  readonly key_id: string;
  readonly archive_sha256: string;
  readonly counts: { readonly results: number; readonly samples: number; readonly events: number };
}

export interface BandReport {
  readonly min: number | null;
  readonly max: number | null;
  readonly mean: number | null;
  readonly p95: number | null;
  readonly reached: boolean | null;
}

export interface PhaseReport {
  readonly environment_id: string;
  readonly region: string;
  readonly phase: string;
  readonly index: number;
  readonly status: string;
  readonly started_at: string | null;
  readonly ended_at: string | null;
  readonly duration_ms: number | null;
  readonly target_rps: number | null;
  readonly achieved_rps: number | null;
  readonly requests: number;
  readonly errors: number;
  readonly error_rate: number | null;
  readonly p50_ms: number | null;
  readonly p95_ms: number | null;
  readonly p99_ms: number | null;
  readonly cpu: BandReport | null;
  readonly memory: BandReport | null;
  readonly gate_verdict: string;
}

export interface GateReport {
  readonly environment_id: string;
  readonly phase: string;
  readonly rule_id: string;
  readonly check: string;
  readonly source: string;
  readonly action: string;
  readonly metric: string | null;
  readonly op: string | null;
  readonly threshold: number | null;
  readonly observed: number | null;
  readonly outcome: string;
  readonly note: string | null;
}

export interface ContractReport {
  readonly environment_id: string;
  readonly phase: string;
  readonly test_id: string;
  readonly test_name: string;
  readonly tool: string;
  readonly contract: string;
  readonly result_id: string;
  readonly status: string;
  readonly reason: string | null;
  readonly duration_ms: number;
  readonly checks: readonly { readonly name: string; readonly outcome: string }[];
}

export interface StatisticReport {
  readonly environment_id: string;
  readonly phase: string;
  readonly metric: string;
  readonly source: string;
  readonly unit: string | null;
  readonly count: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly min: number;
  readonly max: number;
  readonly stddev: number | null;
  readonly ci95: readonly [number, number] | null;
}

export interface FaultReport {
  readonly environment_id: string;
  readonly phase: string | null;
  readonly scenario: string;
  readonly applied_ms: number;
  readonly undone_ms: number | null;
  /** Injection → the SUT's first failed probe (null: no probe failed). */
  readonly detection_ms: number | null;
  /** First failed probe → healthy again (null: not healthy again, or nothing to recover). */
  readonly recovery_ms: number | null;
}

export interface TimelineSeries {
  readonly environment_id: string;
  readonly series: string;
  /** [epoch ms, value], averaged into at most TIMELINE_POINTS buckets. */
  readonly points: readonly (readonly [number, number])[];
}
