import type { GateRule, PlanPhase } from "../../../tiers/plan/schema.js";
import type { GateOutcome, PhaseSummary } from "../../shared/cycle.js";
import type { FaultRecovery } from "./recovery.js";

/** What was measured during a phase, in the plan's canonical units. */
export interface PhaseObservation {
  /** Failed requests / all requests of the phase load (ratio); null when no load ran. */
  readonly error_rate: number | null;
  readonly p95_latency_ms: number | null;
  /** SUT CPU in percent of its allocation: mean and p95 over the phase. */
  readonly cpu: { readonly mean: number; readonly p95: number } | null;
  /** SUT memory in percent of the environment's memory: mean and p95 over the phase. */
  readonly memory: { readonly mean: number; readonly p95: number } | null;
  /** The SUT failed its health check at the end of the phase. */
  readonly sut_down: boolean;
  /**
   * After the chaos phase's faults were undone: ms until the SUT was healthy again (the worst fault);
   * null = it never was; undefined = no fault was applied here (nothing to recover from).
   */
  readonly recovered_after_ms?: number | null;
  /** Results of the phase whose status is failed or invalid. */
  readonly contract_failures: number;
  /** Detection and recovery of each fault applied in the phase (none: no fault was applied). */
  readonly fault_recoveries?: readonly FaultRecovery[];
  /** Any other metric a suite's own condition may name. */
  readonly extra?: Readonly<Record<string, number | null>>;
}

function compare(observed: number, op: NonNullable<GateRule["op"]>, threshold: number): boolean {
  switch (op) {
    case ">":
      return observed > threshold;
    case ">=":
      return observed >= threshold;
    case "<":
      return observed < threshold;
    case "<=":
      return observed <= threshold;
    case "==":
      return observed === threshold;
  }
}

function metricValue(obs: PhaseObservation, metric: string): number | null | undefined {
  switch (metric) {
    case "error_rate":
      return obs.error_rate;
    case "p95_latency_ms":
      return obs.p95_latency_ms;
    case "cpu_usage":
      return obs.cpu?.mean ?? null;
    case "memory_usage":
      return obs.memory?.mean ?? null;
    default:
      return obs.extra?.[metric];
  }
}

export function inBand(
  band: { min: number; max: number } | null,
  value: number | null | undefined,
): boolean | null {
  if (!band || value === null || value === undefined) return null;
  return value >= band.min && value <= band.max;
}

/** One rule against the observation. A rule "fails" when its condition holds (an alert would fire). */
export function evaluateRule(rule: GateRule, phase: PlanPhase, obs: PhaseObservation): GateOutcome {
  const base = {
    id: rule.id,
    check: rule.check,
    source: rule.source,
    action: rule.action,
    ...(rule.metric !== undefined ? { metric: rule.metric } : {}),
    ...(rule.op !== undefined ? { op: rule.op } : {}),
    ...(rule.threshold !== undefined ? { threshold: rule.threshold } : {}),
  };
  switch (rule.check) {
    case "metric": {
      const observed = metricValue(obs, rule.metric!);
      if (observed === null || observed === undefined) {
        return {
          ...base,
          observed: null,
          outcome: "not_evaluated",
          note: `no ${rule.metric} was measured in this phase`,
        };
      }
      return { ...base, observed, outcome: compare(observed, rule.op!, rule.threshold!) ? "fail" : "pass" };
    }
    case "sut_down":
      return { ...base, observed: obs.sut_down ? 1 : 0, outcome: obs.sut_down ? "fail" : "pass" };
    case "sut_not_recovered": {
      if (obs.recovered_after_ms === undefined) {
        return {
          ...base,
          observed: null,
          outcome: "not_evaluated",
          note: "no fault was applied in this phase",
        };
      }
      const ok = obs.recovered_after_ms !== null && obs.recovered_after_ms <= (rule.within_ms ?? 0);
      return {
        ...base,
        observed: obs.recovered_after_ms,
        outcome: ok ? "pass" : "fail",
        note:
          obs.recovered_after_ms === null
            ? "the SUT was not healthy again after the faults were undone"
            : `healthy again ${obs.recovered_after_ms} ms after the faults were undone (limit ${rule.within_ms} ms)`,
      };
    }
    case "fault_recovery_missed":
      return evaluateFaultRecovery(rule, obs, base);
    case "contract_failed":
      return {
        ...base,
        observed: obs.contract_failures,
        outcome: obs.contract_failures > 0 ? "fail" : "pass",
      };
    case "band_missed": {
      const cpu = inBand(phase.cpu_band, obs.cpu?.mean);
      const mem = inBand(phase.memory_band, obs.memory?.mean);
      if (cpu === null && mem === null) {
        return {
          ...base,
          observed: null,
          outcome: "not_evaluated",
          note: "the phase has no band or no usage was sampled",
        };
      }
      const missed = [cpu === false ? "cpu" : "", mem === false ? "memory" : ""].filter(Boolean);
      return {
        ...base,
        observed: missed.length,
        outcome: missed.length > 0 ? "fail" : "pass",
        ...(missed.length > 0 ? { note: `${missed.join(" and ")} outside the target band` } : {}),
      };
    }
  }
}

/**
 * fault_recovery_missed: fails when a fault of the phase was detected later than
 * `detect_within_ms` after its injection, or took longer than `within_ms` from its first failed
 * probe to healthy again (never healthy again counts). A fault no probe saw fail is no miss: there
 * was nothing to detect or recover from. `observed` is the worst recovery in ms.
 */
function evaluateFaultRecovery(
  rule: GateRule,
  obs: PhaseObservation,
  base: Omit<GateOutcome, "outcome">,
): GateOutcome {
  const faults = obs.fault_recoveries ?? [];
  if (faults.length === 0)
    return { ...base, observed: null, outcome: "not_evaluated", note: "no fault was applied in this phase" };
  const detectLimit = rule.detect_within_ms ?? Number.POSITIVE_INFINITY;
  const recoverLimit = rule.within_ms ?? Number.POSITIVE_INFINITY;
  const misses: string[] = [];
  for (const f of faults) {
    if (f.detection_ms === null) continue;
    if (f.detection_ms > detectLimit)
      misses.push(`${f.scenario} detected after ${f.detection_ms} ms (limit ${detectLimit} ms)`);
    if (f.recovery_ms === null) misses.push(`${f.scenario} not healthy again`);
    else if (f.recovery_ms > recoverLimit)
      misses.push(`${f.scenario} recovered after ${f.recovery_ms} ms (limit ${recoverLimit} ms)`);
  }
  const recoveries = faults.map((f) => f.recovery_ms).filter((v): v is number => v !== null);
  const seen = faults.filter((f) => f.detection_ms !== null).length;
  return {
    ...base,
    observed: recoveries.length > 0 ? Math.max(...recoveries) : null,
    outcome: misses.length > 0 ? "fail" : "pass",
    note:
      misses.length > 0
        ? misses.join("; ")
        : `${seen} of ${faults.length} faults seen by the probe, each detected and recovered within the limits`,
  };
}

/**
 * The gate after a phase (seed 001's DecisionEngine.should_continue): every rule evaluated; the
 * verdict is `aborted` when an abort rule fails, `warned` when only warn rules fail.
 */
export function evaluateGate(phase: PlanPhase, obs: PhaseObservation): PhaseSummary["gate"] {
  const rules = phase.gate.map((r) => evaluateRule(r, phase, obs));
  const failed = rules.filter((r) => r.outcome === "fail");
  const verdict = failed.some((r) => r.action === "abort")
    ? "aborted"
    : failed.length > 0
      ? "warned"
      : "passed";
  return { verdict, rules };
}

/** One line naming the rules that stopped the cycle, for the cycle's `reason`. */
export function abortReason(phase: string, gate: PhaseSummary["gate"]): string | undefined {
  const failed = gate.rules.filter((r) => r.outcome === "fail" && r.action === "abort");
  if (failed.length === 0) return undefined;
  const what = failed.map((r) =>
    r.check === "metric"
      ? `${r.metric} ${r.observed} ${r.op} ${r.threshold} (${r.source})`
      : `${r.check}${r.note ? `: ${r.note}` : ""}`,
  );
  return `gate after phase ${phase} aborted the cycle: ${what.join("; ")}`;
}
