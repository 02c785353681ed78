import { setTimeout as sleep } from "node:timers/promises";
import type { PlanPhase } from "../../../tiers/plan/schema.js";
import type { CycleEvent } from "../../shared/cycle.js";
import { runFault } from "../faults/injector.js";
import { createLocalInjector } from "../faults/registry.js";
import { AUTOMATION_TARGETS, RecoveryProbe, type FaultRecovery } from "./recovery.js";
import { waitHealthy, type EnvironmentRuntime } from "./runtime.js";

/**
 * A phase's fault schedule, as both ways of running a cycle run it: `run-cycle`/`serve`'s phase
 * runner (phase-runner.ts, beside the phase's load and tests) and the workflow's `run-faults` step
 * (cli/steps.ts, a step of the phase's group beside its `run-test` steps). Each fault at its
 * `at_ms` from `startedAtMs`, held for its window by `runFault` (always undone), its detection and
 * recovery measured by a `RecoveryProbe` (recovery.ts), then how long until the SUT is healthy
 * again; every step recorded as an event. `sweepPhaseFaults` then deletes whatever chaos resource
 * of the cycle an undo left.
 */

export interface PhaseFaultsInput {
  readonly cycleId: string;
  readonly phase: PlanPhase;
  readonly runtime: EnvironmentRuntime;
  /** When the phase started (ms since epoch): the schedule's `at_ms` and the probes' end count from it. */
  readonly startedAtMs: number;
  /** Ends the faults' windows early (each fault is still undone) and the probing. */
  readonly signal: AbortSignal;
  readonly emit: (event: CycleEvent) => void;
}

export interface PhaseFaults {
  /** Resolves when every fault is done; rejects when an undo failed (the environment is not clean). */
  readonly done: Promise<void>;
  /** After each fault undone: how long until the SUT answered its health check again (null: never). */
  readonly recoveries: (number | null)[];
  /** Detection and recovery of each fault applied. */
  readonly faultRecoveries: FaultRecovery[];
}

/** The limits a phase's faults are measured against: its fault_recovery_missed rule's, else seed 001's. */
export function recoveryLimits(phase: PlanPhase): { detectWithinMs: number; recoverWithinMs: number } {
  const rule = phase.gate.find((r) => r.check === "fault_recovery_missed");
  return {
    detectWithinMs: rule?.detect_within_ms ?? AUTOMATION_TARGETS.detection_ms,
    recoverWithinMs: rule?.within_ms ?? AUTOMATION_TARGETS.recovery_ms,
  };
}

/** Starts the phase's faults on their schedule (the plan's seeded order). */
export function runPhaseFaults(input: PhaseFaultsInput): PhaseFaults {
  const { cycleId, phase, runtime, signal, emit } = input;
  const recoveries: (number | null)[] = [];
  const faultRecoveries: FaultRecovery[] = [];
  const recoveryRule = phase.gate.find((r) => r.check === "sut_not_recovered");
  const { detectWithinMs, recoverWithinMs } = recoveryLimits(phase);
  const phaseEndsAt = input.startedAtMs + phase.duration_ms;
  const probeUrl = new URL("/healthz", runtime.targetUrl).toString();
  const done = Promise.all(
    phase.faults.map(async (f, index) => {
      const wait = input.startedAtMs + f.at_ms - Date.now();
      if (wait > 0) await sleep(wait, undefined, { signal }).catch(() => undefined);
      if (!runtime.faults && !runtime.cluster) {
        emit({
          ts_ms: Date.now(),
          phase: phase.name,
          kind: "fault.skipped",
          scenario: f.scenario,
          detail: { reason: runtime.faultsUnavailable ?? "no local fault injection here" },
        });
        return;
      }
      if (signal.aborted) return;
      const injector = runtime.faults
        ? createLocalInjector(f.scenario, runtime.faults)
        : runtime.cluster!.injector(f.scenario, { cycleId, phase: phase.name, index });
      const probe = new RecoveryProbe({ url: probeUrl, scenario: f.scenario });
      const record = await runFault(injector, {
        phase: phase.name,
        durationMs: f.duration_ms,
        signal,
        emit: (e) => {
          emit(e);
          if (e.kind === "fault.applied") probe.start(e.ts_ms);
        },
      });
      if (probe.started) {
        const measured = await probe.finish({ detectWithinMs, recoverWithinMs, until: phaseEndsAt, signal });
        faultRecoveries.push(measured);
        emit({
          ts_ms: Date.now(),
          phase: phase.name,
          kind: "fault.recovery",
          scenario: f.scenario,
          detail: { ...measured, detection_target_ms: detectWithinMs, recovery_target_ms: recoverWithinMs },
        });
      }
      if (record.outcome === "undone") {
        const ms = await waitHealthy(runtime.healthUrl, recoveryRule?.within_ms ?? 30_000);
        recoveries.push(ms);
        emit({
          ts_ms: Date.now(),
          phase: phase.name,
          kind: "sut.recovery",
          scenario: f.scenario,
          detail: { recovered_after_ms: ms },
        });
      }
    }),
  ).then(() => undefined);
  return { done, recoveries, faultRecoveries };
}

/**
 * No chaos resource outlives its phase: whatever an undo could not delete, the cycle's sweep does
 * (`fault.swept` per resource, or `fault.sweep_failed`). Nothing to do without Chaos Mesh.
 */
export async function sweepPhaseFaults(
  runtime: EnvironmentRuntime,
  cycleId: string,
  event: (kind: string, detail: Record<string, unknown>) => void,
): Promise<void> {
  if (!runtime.cluster) return;
  try {
    for (const s of await runtime.cluster.sweep(cycleId))
      event("fault.swept", { kind: s.kind, name: s.name, when: "phase end" });
  } catch (error) {
    event("fault.sweep_failed", { error: (error as Error).message });
  }
}

/** The worst recovery of a phase's faults; null when one never recovered; undefined when none was undone. */
export function worstRecovery(recoveries: readonly (number | null)[]): number | null | undefined {
  if (recoveries.length === 0) return undefined;
  return recoveries.includes(null) ? null : Math.max(...(recoveries as number[]));
}

/** What the `run-faults` step records around the schedule (the gate step reads the run after the last start). */
export const FAULTS_STARTED = "faults.started";
export const FAULTS_ENDED = "faults.ended";

/**
 * The recovery figures of a phase's faults as its events hold them (`fault.recovery`,
 * `sut.recovery`): what the phase runner kept in memory, for the workflow's `gate` step. Only the
 * last `run-faults` run of the phase counts (a retry after a killed try runs the schedule again).
 */
export function phaseFaultFigures(
  events: Iterable<CycleEvent>,
  phase: string,
): { recoveries: (number | null)[]; faultRecoveries: FaultRecovery[]; ended: boolean } {
  let recoveries: (number | null)[] = [];
  let faultRecoveries: FaultRecovery[] = [];
  let ended = false;
  for (const e of events) {
    if (e.phase !== phase) continue;
    if (e.kind === FAULTS_STARTED) {
      recoveries = [];
      faultRecoveries = [];
      ended = false;
    } else if (e.kind === FAULTS_ENDED) ended = true;
    else if (e.kind === "sut.recovery") recoveries.push(e.detail.recovered_after_ms as number | null);
    else if (e.kind === "fault.recovery") {
      const { detection_target_ms: _d, recovery_target_ms: _r, ...measured } = e.detail;
      faultRecoveries.push(measured as unknown as FaultRecovery);
    }
  }
  return { recoveries, faultRecoveries, ended };
}
