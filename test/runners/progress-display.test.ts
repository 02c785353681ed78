import { describe, expect, it } from "vitest";
import type { CycleStatus } from "../../runners/cycle/orchestrator-client.js";
import {
  describeEnvironment,
  ProgressDisplay,
  type EnvironmentView,
} from "../../runners/cycle/progress-display.js";

function status(over: Partial<CycleStatus>): CycleStatus {
  return {
    cycle_id: "c1",
    state: "running",
    verdict: null,
    reason: null,
    phases: [
      { name: "idle", status: "completed", gate: "passed" },
      { name: "baseline", status: "completed", gate: "warned" },
      { name: "light", status: "running", gate: null },
    ],
    phase: { name: "light", index: 2, elapsed_ms: 2500, duration_ms: 4800 },
    latest: { rps: 135.4, p99_ms: 18.96, errors: 0, cpu_pct: 31 },
    ...over,
  };
}

const view = (over: Partial<EnvironmentView> = {}): EnvironmentView => ({
  id: "env-1",
  region: "us-east-1",
  phaseMs: [1200, 3600, 4800],
  status: status({}),
  failure: null,
  ...over,
});

class Sink {
  text = "";
  constructor(readonly columns?: number) {}
  write(t: string) {
    this.text += t;
  }
}

describe("live progress display", () => {
  it("shows phase, elapsed / total phase time, current RPS and p99, and the gate verdicts", () => {
    expect(describeEnvironment(view())).toBe(
      "env-1    us-east-1       light 3/3        00:07/00:10 rps 135.4  p99 19.0 ms   gates: idle ✓ baseline !",
    );
    expect(describeEnvironment(view({ status: status({ state: "calibrating", phase: null }) }))).toMatch(
      /^env-1 +us-east-1 +calibrating +00:05\/00:10/,
    );
    expect(describeEnvironment(view({ failure: "orchestrator process 42 exited (SIGKILL)" }))).toBe(
      "env-1    us-east-1       FAILED  orchestrator process 42 exited (SIGKILL)",
    );
    expect(
      describeEnvironment(
        view({
          status: status({
            state: "aborted",
            verdict: "failed",
            phase: null,
            phases: [
              { name: "idle", status: "completed", gate: "passed" },
              { name: "baseline", status: "aborted", gate: "aborted" },
              { name: "light", status: "not_run", gate: null },
            ],
          }),
        }),
      ),
    ).toMatch(/aborted \(failed\) +00:05\/00:10 +gates: idle ✓ baseline ✗$/);
  });

  it("without a terminal prints a timestamped line per change and the figures every interval", () => {
    const sink = new Sink();
    let now = Date.parse("2026-11-22T10:00:00Z");
    const v = view();
    const d = new ProgressDisplay(sink, false, [v], 10_000, () => new Date(now));
    d.update();
    d.update(); // nothing changed, interval not over: nothing printed
    now += 10_000;
    d.update(); // figures again
    v.status = status({ phase: { name: "light", index: 2, elapsed_ms: 4000, duration_ms: 4800 } });
    now += 1000;
    d.update(); // no change of phase or gate, 1 s later: nothing
    d.log("env-1: something happened");
    const lines = sink.text.trimEnd().split("\n");
    expect(lines.length).toBe(3);
    expect(lines[0]).toMatch(/^\[10:00:00\] env-1 +us-east-1 +light 3\/3 +00:07\/00:10 rps 135\.4/);
    expect(lines[1]).toMatch(/^\[10:00:10\] env-1 +us-east-1 +light 3\/3 +00:07\/00:10 rps 135\.4/);
    expect(lines[2]).toBe("[10:00:11] env-1: something happened");
    expect(sink.text).not.toContain("\x1b[");
  });

  it("on a terminal redraws its block in place and keeps log lines above it, cut to the width", () => {
    const sink = new Sink(40);
    const a = view();
    const b = view({ id: "env-2" });
    const d = new ProgressDisplay(sink, true, [a, b]);
    d.update();
    expect(sink.text.split("\n").length).toBe(3);
    d.log("env-2: cycle completed");
    // The block (2 lines) is moved up over and cleared, the log line written, the block redrawn.
    expect(sink.text).toContain("\x1b[2A\x1b[0Jenv-2: cycle completed\n\x1b[2Kenv-1");
    for (const line of sink.text.split("\n"))
      expect(
        line.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*[A-Za-z]`, "g"), "").length,
      ).toBeLessThan(40);
  });
});
