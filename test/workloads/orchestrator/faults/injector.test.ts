import { describe, expect, it } from "vitest";
import { ExitCode, TiersError } from "../../../../tiers/errors.js";
import { runFault, type FaultInjector } from "../../../../workloads/orchestrator/faults/injector.js";
import { CycleEvent } from "../../../../workloads/shared/cycle.js";

/** An injector that flips a flag and can be told to fail: runFault's own rules, without a system. */
class Flag implements FaultInjector {
  readonly scenario = "flag";
  on = false;
  applies = 0;
  undos = 0;
  constructor(private readonly fail: { apply?: boolean; undo?: boolean; missing?: string } = {}) {}
  unavailable() {
    return this.fail.missing;
  }
  apply() {
    this.applies += 1;
    this.on = true;
    return this.fail.apply ? Promise.reject(new Error("half applied")) : Promise.resolve({ set: true });
  }
  undo() {
    this.undos += 1;
    if (this.fail.undo) return Promise.reject(new Error("stuck"));
    this.on = false;
    return Promise.resolve({ set: false });
  }
}

async function run(injector: Flag, durationMs = 50, signal?: AbortSignal) {
  const events: CycleEvent[] = [];
  const record = await runFault(injector, {
    phase: "chaos",
    durationMs,
    ...(signal ? { signal } : {}),
    emit: (e) => events.push(CycleEvent.parse(e)),
  });
  return { record, events };
}

describe("runFault", () => {
  it("applies, holds for the window, undoes, and records both with times", async () => {
    const flag = new Flag();
    const { record, events } = await run(flag, 120);
    expect(flag.on).toBe(false);
    expect(events.map((e) => [e.kind, e.scenario, e.phase])).toStrictEqual([
      ["fault.applied", "flag", "chaos"],
      ["fault.undone", "flag", "chaos"],
    ]);
    expect(events[0]!.detail).toStrictEqual({ set: true, duration_ms: 120 });
    expect(events[1]!.detail.held_ms as number).toBeGreaterThanOrEqual(115);
    expect(record).toMatchObject({ scenario: "flag", outcome: "undone" });
    expect(record.undone_at_ms! - record.applied_at_ms!).toBeGreaterThanOrEqual(115);
  });

  it("an abort ends the window early and the fault is still undone", async () => {
    const flag = new Flag();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 30);
    const { record, events } = await run(flag, 60_000, controller.signal);
    expect(flag.on).toBe(false);
    expect(record.reason).toBe("the window was cut short");
    expect(events.map((e) => e.kind)).toStrictEqual(["fault.applied", "fault.undone"]);
  });

  it("a failed apply is recorded and what it half did is undone", async () => {
    const flag = new Flag({ apply: true });
    const { record, events } = await run(flag);
    expect([flag.on, flag.undos]).toStrictEqual([false, 1]);
    expect(record).toStrictEqual({ scenario: "flag", outcome: "apply_failed", reason: "half applied" });
    expect(events.map((e) => [e.kind, e.detail])).toStrictEqual([
      ["fault.apply_failed", { error: "half applied" }],
      ["fault.undone", { set: false }],
    ]);
  });

  it("a failed undo is recorded and raised as an infrastructure error: the environment is not clean", async () => {
    const events: CycleEvent[] = [];
    const error = await runFault(new Flag({ undo: true }), {
      phase: "chaos",
      durationMs: 1,
      emit: (e) => events.push(e),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TiersError);
    expect((error as TiersError).exitCode).toBe(ExitCode.Infrastructure);
    expect((error as TiersError).message).toBe("could not undo flag: stuck");
    expect(events.map((e) => e.kind)).toStrictEqual(["fault.applied", "fault.undo_failed"]);
  });

  it("an injector that cannot run here is skipped with its reason, never applied", async () => {
    const flag = new Flag({ missing: "no proxy" });
    const { record, events } = await run(flag);
    expect(flag.applies).toBe(0);
    expect(record).toStrictEqual({ scenario: "flag", outcome: "skipped", reason: "no proxy" });
    expect(events.map((e) => [e.kind, e.detail])).toStrictEqual([["fault.skipped", { reason: "no proxy" }]]);
  });
});
