import { randomUUID } from "node:crypto";
import type { CyclePlan, PlanEnvironment, PlanPhase } from "../../../tiers/plan/schema.js";
import { notRunSummary, type PhaseSummary } from "../../shared/cycle.js";
import type { EnvStore } from "../storage/env-store.js";
import type { Telemetry } from "../telemetry/telemetry.js";
import { calibrateEnvironment, type Calibration, type CalibrationOptions } from "./calibration.js";
import { abortReason } from "./gate.js";
import { PhaseCheckFailed, runPhase } from "./phase-runner.js";
import { CycleProgress } from "./progress.js";
import type { EnvironmentRuntime } from "./runtime.js";

export interface CycleRunOptions {
  readonly store: EnvStore;
  readonly plan: CyclePlan;
  readonly environment: PlanEnvironment;
  readonly runtime: EnvironmentRuntime;
  /** Continue this cycle from its last committed step instead of starting a new one. */
  readonly resumeCycleId?: string;
  readonly cycleId?: string;
  readonly signal?: AbortSignal;
  readonly calibration?: Partial<Pick<CalibrationOptions, "stepMs" | "startRps" | "maxSteps">>;
  /** Logs, traces and metrics of the cycle (none without). */
  readonly telemetry?: Telemetry;
  /** Receives the live progress as soon as the cycle exists. */
  readonly onProgress?: (progress: CycleProgress) => void;
}

export interface CycleEnd {
  readonly cycleId: string;
  readonly status: "completed" | "aborted" | "failed" | "interrupted";
  readonly verdict: "passed" | "failed";
  readonly reason?: string;
  readonly phases: readonly PhaseSummary[];
}

/**
 * seed 001's StressCycleController for one isolated environment: calibrate (relative load mode),
 * then each phase in order — pre-phase checks, load, tests, faults, gate — and stop gracefully when
 * a gate aborts (the rest are recorded as not run). Resumable: phases already committed are kept
 * and skipped; the phase that was running when the process died is run again as a new attempt,
 * without running again the tests it had committed.
 */
export async function runCycle(options: CycleRunOptions): Promise<CycleEnd> {
  const { store, plan, environment, runtime } = options;
  const signal = options.signal ?? new AbortController().signal;
  let cycleId: string;
  let calibration: Calibration | null = null;
  if (options.resumeCycleId !== undefined) {
    const existing = store.getCycle(options.resumeCycleId);
    if (!existing) throw new Error(`no cycle ${options.resumeCycleId} to resume`);
    if (existing.plan_hash !== plan.hash) {
      throw new Error(
        `cycle ${existing.cycle_id} ran plan ${existing.plan_hash.slice(0, 12)}, not ${plan.hash.slice(0, 12)}`,
      );
    }
    if (existing.status !== "running" && existing.status !== "interrupted") {
      throw new Error(
        `cycle ${existing.cycle_id} is ${existing.status}; only a running or interrupted cycle resumes`,
      );
    }
    cycleId = existing.cycle_id;
    calibration = existing.calibration;
    store.markResumed(cycleId);
  } else {
    cycleId =
      options.cycleId ??
      `${new Date().toISOString().replace(/[-:]/g, "").slice(0, 15)}-${randomUUID().slice(0, 8)}`;
    store.createCycle(cycleId, environment.id, plan, new Date().toISOString());
  }
  const telemetry = options.telemetry?.cycle(cycleId, plan, environment, options.resumeCycleId !== undefined);
  const progress = new CycleProgress(cycleId, plan, environment);
  options.onProgress?.(progress);
  store.appendEvent(cycleId, {
    ts_ms: Date.now(),
    phase: null,
    kind: options.resumeCycleId ? "cycle.resumed" : "cycle.started",
    detail: { plan_hash: plan.hash },
  });

  const done = new Map(
    store
      .phases(cycleId)
      .filter((p) => p.status !== "running" && p.summary)
      .map((p) => [p.name, p.summary!]),
  );
  const summaries: PhaseSummary[] = [];
  let status: CycleEnd["status"] = "completed";
  let reason: string | undefined;
  try {
    const needsCalibration =
      plan.options.load_mode === "relative" && environment.phases.some((p) => p.load.kind !== "none");
    if (needsCalibration && !calibration) {
      progress.state = "calibrating";
      calibration = await calibrateEnvironment(runtime, plan, environment, {
        ...options.calibration,
        signal,
      });
      store.setCalibration(cycleId, calibration);
      store.appendEvent(cycleId, {
        ts_ms: Date.now(),
        phase: null,
        kind: "calibration.done",
        detail: {
          saturation_rps: calibration.saturation_rps,
          steps: calibration.steps.length,
          cpu_s_per_request: calibration.cpu_s_per_request ?? null,
          rate_basis: calibration.rate_basis ?? "saturation",
        },
      });
    }
    progress.saturationRps = calibration?.saturation_rps ?? null;
    progress.state = "running";

    for (const phase of environment.phases) {
      const committed = done.get(phase.name);
      if (committed) {
        summaries.push(committed);
        Object.assign(progress.phase(phase.name), { status: committed.status, gate: committed.gate.verdict });
        if (committed.gate.verdict === "aborted") break;
        continue;
      }
      if (signal.aborted) break;
      const summary = await runPhase({
        store,
        cycleId,
        plan,
        environment,
        phase,
        runtime,
        progress,
        calibration,
        signal,
        ...(telemetry ? { telemetry } : {}),
      });
      summaries.push(summary);
      if (summary.gate.verdict === "aborted") {
        status = "aborted";
        reason = abortReason(phase.name, summary.gate);
        break;
      }
      if (summary.status === "aborted") break;
    }
    if (signal.aborted && status === "completed") {
      status = "interrupted";
      reason = `interrupted: ${String((signal.reason as Error | undefined)?.message ?? signal.reason ?? "stop requested")}`;
    }
    const aborted = summaries.find((s) => s.gate.verdict === "aborted");
    if (aborted && status === "completed") {
      status = "aborted";
      reason = abortReason(aborted.name, aborted.gate);
    }
  } catch (error) {
    telemetry?.phaseFailed(error);
    status = "failed";
    reason = error instanceof PhaseCheckFailed ? error.message : `cycle failed: ${(error as Error).message}`;
    try {
      store.appendEvent(cycleId, {
        ts_ms: Date.now(),
        phase: progress.current as PlanPhase["name"] | null,
        kind: "cycle.failed",
        detail: { error: reason },
      });
    } catch {
      // the store itself may be what failed
    }
  }

  // Graceful end: phases that did not run are recorded as such.
  for (const phase of environment.phases) {
    if (summaries.some((s) => s.name === phase.name)) continue;
    const s = notRunSummary(phase);
    summaries.push(s);
    try {
      store.finishPhase(cycleId, s);
    } catch {
      // recorded as far as the store allows
    }
    progress.phase(phase.name).status = "not_run";
  }
  const verdict: CycleEnd["verdict"] = status === "completed" ? "passed" : "failed";
  // The cycle's span ends and is exported before the end is visible (API, store): a bundle exported
  // as soon as the cycle shows finished has every span.
  await telemetry?.cycleEnded({ status, verdict, ...(reason ? { reason } : {}) });
  progress.state = status;
  progress.verdict = verdict;
  progress.reason = reason ?? null;
  progress.endedMs = Date.now();
  progress.current = null;
  try {
    store.finishCycle(cycleId, {
      status,
      verdict,
      ...(reason ? { reason } : {}),
      ended_at: new Date().toISOString(),
    });
    store.appendEvent(cycleId, {
      ts_ms: Date.now(),
      phase: null,
      kind: "cycle.ended",
      detail: { status, verdict, ...(reason ? { reason } : {}) },
    });
  } catch (error) {
    if (status !== "failed") throw error;
  }
  return {
    cycleId,
    status,
    verdict,
    ...(reason ? { reason } : {}),
    phases: summaries.sort((a, b) => a.index - b.index),
  };
}
