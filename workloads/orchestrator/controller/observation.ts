import type { PlanEnvironment, PlanPhase } from "../../../tiers/plan/schema.js";
import type { PhaseSummary } from "../../shared/cycle.js";
import type { Result } from "../../shared/result.js";
import { judgeBand, memoryPercent } from "../sampler/band.js";
import { evaluateGate, type PhaseObservation } from "./gate.js";
import type { FaultRecovery } from "./recovery.js";

/** What a phase produced, gathered by the phase runner. */
export interface PhaseOutcome {
  readonly phase: PlanPhase;
  readonly status: "completed" | "aborted";
  readonly startedAt: Date;
  readonly endedAt: Date;
  /** The phase load's Results (one, or one per step of a variable load). */
  readonly loadResults: readonly Result[];
  /** The phase's test Results (committed before or during this attempt). */
  readonly testResults: readonly Result[];
  readonly cpuPct: readonly number[];
  readonly rssBytes: readonly number[];
  readonly sutDown: boolean;
  readonly recoveredAfterMs: number | null | undefined;
  /** Detection and recovery of each fault applied. */
  readonly faultRecoveries?: readonly FaultRecovery[];
  /** The rate the load aimed at (mean over steps), null without load. */
  readonly targetRps: number | null;
}

function num(r: Result, metric: string): number | null {
  const v = r.metrics[metric]?.value;
  return typeof v === "number" ? v : null;
}

/**
 * The phase's load figures from its load Results: counts summed; p50 weighted by requests; p95 and
 * p99 the worst step's (a gate judges the worst sustained latency, not an average of steps).
 */
export function loadFigures(loadResults: readonly Result[], targetRps: number | null): PhaseSummary["load"] {
  const usable = loadResults.filter((r) => num(r, "requests") !== null);
  if (usable.length === 0) {
    return {
      target_rps: targetRps,
      achieved_rps: null,
      requests: 0,
      errors: 0,
      error_rate: null,
      p50_ms: null,
      p95_ms: null,
      p99_ms: null,
    };
  }
  const requests = usable.reduce((n, r) => n + (num(r, "requests") ?? 0), 0);
  const errors = usable.reduce((n, r) => n + (num(r, "errors") ?? 0) + (num(r, "non_2xx") ?? 0), 0);
  const seconds = usable.reduce((n, r) => n + (num(r, "duration") ?? 0), 0);
  const weighted = (metric: string): number | null => {
    const parts = usable.filter((r) => num(r, metric) !== null && (num(r, "requests") ?? 0) > 0);
    const w = parts.reduce((n, r) => n + num(r, "requests")!, 0);
    return w > 0 ? parts.reduce((n, r) => n + num(r, metric)! * num(r, "requests")!, 0) / w : null;
  };
  const worst = (metric: string): number | null => {
    const values = usable.map((r) => num(r, metric)).filter((v): v is number => v !== null);
    return values.length ? Math.max(...values) : null;
  };
  const attempts = requests + usable.reduce((n, r) => n + (num(r, "errors") ?? 0), 0);
  return {
    target_rps: targetRps,
    achieved_rps: seconds > 0 ? requests / seconds : null,
    requests: Math.round(requests),
    errors: Math.round(errors),
    error_rate: attempts > 0 ? errors / attempts : null,
    p50_ms: weighted("latency_p50"),
    p95_ms: worst("latency_p95"),
    p99_ms: worst("latency_p99"),
  };
}

/** Observation (for the gate) and summary (for storage and the bundle) of a finished phase. */
export function summarizePhase(
  outcome: PhaseOutcome,
  environment: PlanEnvironment,
): { observation: PhaseObservation; summary: PhaseSummary } {
  const { phase } = outcome;
  const load = loadFigures(outcome.loadResults, outcome.targetRps);
  const cpu = phase.cpu_band ? judgeBand(outcome.cpuPct, phase.cpu_band) : null;
  const memValues = outcome.rssBytes.map((b) => memoryPercent(b, environment.resources.memory_bytes));
  const memory = phase.memory_band ? judgeBand(memValues, phase.memory_band) : null;
  const stats = (values: readonly number[]) => {
    if (values.length === 0) return null;
    const j = judgeBand(values, { min: 0, max: 100 });
    return { mean: j.mean!, p95: j.p95! };
  };
  const observation: PhaseObservation = {
    error_rate: load.error_rate,
    p95_latency_ms: load.p95_ms,
    cpu: stats(outcome.cpuPct),
    memory: stats(memValues),
    sut_down: outcome.sutDown,
    ...(outcome.recoveredAfterMs !== undefined ? { recovered_after_ms: outcome.recoveredAfterMs } : {}),
    ...(outcome.faultRecoveries && outcome.faultRecoveries.length > 0
      ? { fault_recoveries: outcome.faultRecoveries }
      : {}),
    contract_failures: outcome.testResults.filter((r) => r.status === "failed" || r.status === "invalid")
      .length,
  };
  const gate = evaluateGate(phase, observation);
  const summary: PhaseSummary = {
    name: phase.name,
    index: phase.index,
    status: outcome.status,
    started_at: outcome.startedAt.toISOString(),
    ended_at: outcome.endedAt.toISOString(),
    planned_duration_ms: phase.duration_ms,
    duration_ms: outcome.endedAt.getTime() - outcome.startedAt.getTime(),
    load,
    cpu,
    memory,
    gate,
  };
  return { observation, summary };
}
