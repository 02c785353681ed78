import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ExitCode } from "../../../tiers/errors.js";
import { EnvStore } from "../../../workloads/orchestrator/storage/env-store.js";
import { testPlan } from "../../helpers/orchestrator.js";
import { runOrchestrator } from "../../helpers/orchestrator-cli.js";

const dir = mkdtempSync(join(tmpdir(), "tiers-steps-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the step commands a workflow engine drives", () => {
  it("start-cycle, run-test per test and load segment, gate per phase, finish-cycle give the same record as a whole cycle", async () => {
    const plan = testPlan({ tier: "base", time_scale: "0.004", load_scale: "0.1" });
    const planFile = join(dir, "plan.json");
    writeFileSync(planFile, JSON.stringify(plan));
    const base = ["--data-dir", join(dir, "data"), "--env", "env-1"];
    const started = await runOrchestrator(["start-cycle", planFile, "--cycle-id", "wf-1", ...base]);
    expect(started.events[0]).toMatchObject({ event: "cycle.started", cycle_id: "wf-1" });

    const env = plan.environments[0]!;
    for (const phase of env.phases) {
      const ids = [
        ...(phase.load.kind === "none" ? [] : [`${phase.name}/load`]),
        ...phase.tests.map((t) => t.id),
      ];
      // A workflow runs a phase's steps in parallel.
      const runs = await Promise.all(
        ids.map((id) => runOrchestrator(["run-test", planFile, "--cycle", "wf-1", "--test", id, ...base])),
      );
      for (const r of runs) expect(r.events[0]).toMatchObject({ event: "result" });
      // A retried step finds its result committed and does not run again.
      const retry = await runOrchestrator([
        "run-test",
        planFile,
        "--cycle",
        "wf-1",
        "--test",
        ids[0]!,
        ...base,
      ]);
      expect(retry.events[0]).toStrictEqual({ event: "already_committed", test_id: ids[0] });
      const gate = await runOrchestrator([
        "gate",
        planFile,
        "--cycle",
        "wf-1",
        "--phase",
        phase.name,
        ...base,
      ]);
      expect(gate.code).toBe(ExitCode.Ok);
      expect(gate.events[0]).toMatchObject({ event: "gate", phase: phase.name });
    }
    const finished = await runOrchestrator(["finish-cycle", "--cycle", "wf-1", ...base]);
    expect(finished.events[0]).toMatchObject({
      event: "cycle.ended",
      status: "completed",
      verdict: "passed",
    });

    const store = EnvStore.open(join(dir, "data", "env.db"));
    try {
      const ids = [...store.results("wf-1")].map((r) => r.test_id).sort();
      expect(ids).toStrictEqual(
        env.phases
          .flatMap((p) => [
            ...(p.load.kind === "none" ? [] : [`${p.name}/load`]),
            ...p.tests.map((t) => t.id),
          ])
          .sort(),
      );
      expect(store.phases("wf-1").map((p) => [p.name, p.status])).toStrictEqual(
        env.phases.map((p) => [p.name, "completed"]),
      );
    } finally {
      store.close();
    }
  }, 240_000);

  it("refuses a test the plan does not have, naming it", async () => {
    const plan = testPlan({ tier: "base", time_scale: "0.004" });
    const planFile = join(dir, "plan2.json");
    writeFileSync(planFile, JSON.stringify(plan));
    const base = ["--data-dir", join(dir, "data2"), "--env", "env-1"];
    await runOrchestrator(["start-cycle", planFile, "--cycle-id", "wf-2", ...base]);
    const r = await runOrchestrator([
      "run-test",
      planFile,
      "--cycle",
      "wf-2",
      "--test",
      "heavy/nothing",
      ...base,
    ]);
    expect(r.code).toBe(ExitCode.InvalidConfig);
    expect(r.stderr).toContain("command line --test: no test heavy/nothing in the plan");
  }, 60_000);
});
