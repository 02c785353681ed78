import type { CyclePlan, PlanEnvironment } from "../../../tiers/plan/schema.js";
import type { PhaseSummary } from "../../shared/cycle.js";
import type { ResultStatus } from "../../shared/result.js";

export type CycleState = "calibrating" | "running" | "completed" | "aborted" | "failed" | "interrupted";

/** The latest figures of the running phase, for the live progress display and /metrics. */
export interface LatestFigures {
  ts_ms: number;
  rps: number | null;
  p99_ms: number | null;
  errors: number | null;
  /** (errors + non-2xx) / (responses + errors) of the latest second, 0..1. */
  error_ratio: number | null;
  p95_ms: number | null;
  cpu_pct: number | null;
  rss_bytes: number | null;
}

export interface PhaseProgress {
  readonly name: string;
  status: PhaseSummary["status"] | "running" | "pending";
  gate: PhaseSummary["gate"]["verdict"] | null;
  started_ms: number | null;
  duration_ms: number;
}

/**
 * A cycle's live state, kept in memory by the controller and served by the API
 * (`GET /v1/cycles/:id`): where it is, how long it has run, the latest figures, the gates so far.
 */
export class CycleProgress {
  state: CycleState = "running";
  verdict: "passed" | "failed" | null = null;
  reason: string | null = null;
  readonly startedMs = Date.now();
  endedMs: number | null = null;
  current: string | null = null;
  readonly phases: PhaseProgress[];
  readonly latest: LatestFigures = {
    ts_ms: 0,
    rps: null,
    p99_ms: null,
    errors: null,
    error_ratio: null,
    p95_ms: null,
    cpu_pct: null,
    rss_bytes: null,
  };
  /** Results this run of the cycle committed, by status (see `countResult`). */
  readonly results: Record<ResultStatus, number> = { passed: 0, failed: 0, invalid: 0, skipped: 0 };
  saturationRps: number | null = null;
  private readonly resultListeners: ((status: ResultStatus) => void)[] = [];

  constructor(
    readonly cycleId: string,
    readonly plan: CyclePlan,
    readonly environment: PlanEnvironment,
  ) {
    this.phases = environment.phases.map((p) => ({
      name: p.name,
      status: "pending",
      gate: null,
      started_ms: null,
      duration_ms: p.duration_ms,
    }));
  }

  /** A result committed to the store: counted, and told to each listener (/metrics' counter). */
  countResult(status: ResultStatus): void {
    this.results[status] += 1;
    for (const listener of this.resultListeners) listener(status);
  }

  onResult(listener: (status: ResultStatus) => void): void {
    this.resultListeners.push(listener);
  }

  phase(name: string): PhaseProgress {
    return this.phases.find((p) => p.name === name)!;
  }

  /** Fraction of the phase's planned time that has passed (seed 001's `stress_phase_progression`). */
  progression(name: string, now = Date.now()): number {
    const p = this.phase(name);
    if (p.status === "completed" || p.status === "aborted") return 1;
    if (p.started_ms === null) return 0;
    return Math.min(1, (now - p.started_ms) / Math.max(1, p.duration_ms));
  }

  get running(): boolean {
    return this.state === "running" || this.state === "calibrating";
  }

  toJSON(): Record<string, unknown> {
    const now = this.endedMs ?? Date.now();
    const cur = this.current ? this.phase(this.current) : undefined;
    return {
      cycle_id: this.cycleId,
      environment: this.environment.id,
      tier: this.plan.tier.name,
      plan_hash: this.plan.hash,
      state: this.state,
      verdict: this.verdict,
      reason: this.reason,
      started_at: new Date(this.startedMs).toISOString(),
      elapsed_ms: now - this.startedMs,
      total_ms: this.environment.phases.reduce((n, p) => n + p.duration_ms, 0),
      phase: cur
        ? {
            name: cur.name,
            index: this.phases.indexOf(cur),
            elapsed_ms: cur.started_ms === null ? 0 : now - cur.started_ms,
            duration_ms: cur.duration_ms,
          }
        : null,
      phases: this.phases.map((p) => ({ name: p.name, status: p.status, gate: p.gate })),
      latest: this.latest,
      results: this.results,
      saturation_rps: this.saturationRps,
    };
  }
}
