import { setTimeout as sleep } from "node:timers/promises";
import type { PhaseName } from "../../../tiers/schema/names.js";
import { ExitCode, TiersError } from "../../../tiers/errors.js";
import type { CycleEvent } from "../../shared/cycle.js";

/**
 * A local fault injector applies one fault and undoes it. `runFault` holds it for its window and
 * always undoes it — after the window, on abort, and after a failed or partial apply — recording
 * each step as a CycleEvent: `fault.applied`, `fault.undone`, or `fault.skipped`,
 * `fault.apply_failed`, `fault.undo_failed`.
 */

export interface FaultContext {
  readonly phase: PhaseName | null;
  /** How long the fault is meant to hold, ms. */
  readonly durationMs: number;
  /** Records an event of its own (for example `sut.restarted`). */
  emit(kind: string, detail: Record<string, unknown>): void;
}

export interface FaultInjector {
  /** pod_kill, network_partition, resource_starvation, clock_skew, disk_failure, or a local extra. */
  readonly scenario: string;
  /** Why it cannot run here (a missing tool, no proxy), or undefined when it can. */
  unavailable?(): Promise<string | undefined> | string | undefined;
  /** Applies the fault; the returned details are recorded with `fault.applied`. */
  apply(ctx: FaultContext): Promise<Record<string, unknown>>;
  /** Undoes it; must also work after a partial apply, and twice. Details go with `fault.undone`. */
  undo(ctx: FaultContext): Promise<Record<string, unknown>>;
}

export interface FaultWindow {
  readonly phase: PhaseName | null;
  readonly durationMs: number;
  /** Ends the window early (the fault is still undone). */
  readonly signal?: AbortSignal;
  readonly emit: (event: CycleEvent) => void;
}

export type FaultOutcome = "undone" | "skipped" | "apply_failed";

export interface FaultRecord {
  readonly scenario: string;
  readonly outcome: FaultOutcome;
  readonly applied_at_ms?: number;
  readonly undone_at_ms?: number;
  readonly reason?: string;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Applies `injector` for the window and undoes it. Resolves with what happened; throws a
 * TiersError (infrastructure) only when the undo itself failed — the environment is then not clean.
 */
export async function runFault(injector: FaultInjector, window: FaultWindow): Promise<FaultRecord> {
  const scenario = injector.scenario;
  const emit = (kind: string, detail: Record<string, unknown>): void =>
    window.emit({ ts_ms: Date.now(), phase: window.phase, kind, scenario, detail });
  const ctx: FaultContext = { phase: window.phase, durationMs: window.durationMs, emit };

  const missing = await injector.unavailable?.();
  if (missing !== undefined) {
    emit("fault.skipped", { reason: missing });
    return { scenario, outcome: "skipped", reason: missing };
  }
  let appliedAt: number | undefined;
  let applyError: string | undefined;
  // Every error of apply (and of the wait) is caught here, so the undo below always runs.
  try {
    if (!window.signal?.aborted) {
      const detail = await injector.apply(ctx);
      appliedAt = Date.now();
      emit("fault.applied", { ...detail, duration_ms: window.durationMs });
      await sleep(window.durationMs, undefined, { signal: window.signal }).catch(() => undefined);
    }
  } catch (error) {
    applyError = message(error);
    // An API refusal keeps its HTTP status and Status reason (403 Forbidden, 409 AlreadyExists …).
    const e = error as { status?: unknown; reason?: unknown };
    emit("fault.apply_failed", {
      error: applyError,
      ...(typeof e?.status === "number" ? { status: e.status } : {}),
      ...(typeof e?.reason === "string" && e.reason !== "" ? { reason: e.reason } : {}),
    });
  }
  try {
    const detail = await injector.undo(ctx);
    emit("fault.undone", {
      ...detail,
      ...(appliedAt !== undefined ? { held_ms: Date.now() - appliedAt } : {}),
    });
  } catch (error) {
    emit("fault.undo_failed", { error: message(error) });
    throw new TiersError(ExitCode.Infrastructure, `could not undo ${scenario}: ${message(error)}`, {
      cause: error,
    });
  }
  if (applyError !== undefined) return { scenario, outcome: "apply_failed", reason: applyError };
  return {
    scenario,
    outcome: "undone",
    ...(appliedAt !== undefined ? { applied_at_ms: appliedAt } : {}),
    undone_at_ms: Date.now(),
    ...(window.signal?.aborted ? { reason: "the window was cut short" } : {}),
  };
}
