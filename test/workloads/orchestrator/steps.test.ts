import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { chaosRoleRules } from "../../../components/environment/chaos-access.js";
import { ExitCode } from "../../../tiers/errors.js";
import { CHAOS_KINDS, CHAOS_LABELS } from "../../../tiers/infra/chaos-mesh.js";
import { hashPlan } from "../../../tiers/plan/hash.js";
import type { CyclePlan } from "../../../tiers/plan/schema.js";
import { FAULTS_ENDED, FAULTS_STARTED } from "../../../workloads/orchestrator/controller/phase-faults.js";
import { EnvStore } from "../../../workloads/orchestrator/storage/env-store.js";
import { testPlan } from "../../helpers/orchestrator.js";
import { runOrchestrator } from "../../helpers/orchestrator-cli.js";
import { startKubeApi, type StoredObject } from "../../support/kube-api.js";
import { startSut } from "../support/sut.js";

const dir = mkdtempSync(join(tmpdir(), "tiers-steps-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const BIN = fileURLToPath(new URL("../../../bin/orchestrator.js", import.meta.url));

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

/** The chaos tier's chaos phase alone: its load, tests and the seed's five faults. */
function chaosOnlyPlan(timeScale: string): CyclePlan {
  const plan = testPlan({ tier: "chaos", time_scale: timeScale, load_scale: "0.1" });
  const environments = plan.environments.map((e) => ({
    ...e,
    phases: e.phases.filter((p) => p.faults.length > 0),
  }));
  const changed = { ...plan, environments };
  return { ...changed, hash: hashPlan(changed) };
}

describe("run-faults: the chaos phase's faults as a workflow step (Chaos Mesh through the Kubernetes API stand-in)", () => {
  it("SIGTERM undoes the fault it holds and leaves nothing; the retry runs the schedule to its end; a third try does nothing; the gate judges the recovery", async () => {
    const NS = "tiers-env-1";
    const created: StoredObject[] = [];
    let onCreate: (() => void) | undefined;
    const kube = await startKubeApi({
      token: "steps-stand-in-token",
      rules: chaosRoleRules().map((r) => ({
        apiGroups: r.apiGroups as string[],
        resources: r.resources as string[],
        verbs: r.verbs as string[],
        namespaces: [NS],
      })),
      onCreate: (o) => {
        created.push(o);
        onCreate?.();
      },
    });
    const sut = await startSut();
    try {
      const kubeconfig = join(dir, "kubeconfig");
      writeFileSync(kubeconfig, kube.kubeconfig(NS), { mode: 0o600 });
      const plan = chaosOnlyPlan("0.004");
      const phase = plan.environments[0]!.phases[0]!;
      const planFile = join(dir, "chaos.json");
      writeFileSync(planFile, JSON.stringify(plan));
      const data = join(dir, "chaos-data");
      const base = ["--data-dir", data, "--env", "env-1"];
      const env = {
        PATH: process.env.PATH,
        TIERS_SUT_URL: sut.url,
        TIERS_FAULTS: "chaos-mesh",
        TIERS_KUBECONFIG: kubeconfig,
      };
      const step = (args: string[], sigtermOnCreate = false) =>
        new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
          const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
          let stdout = "";
          let stderr = "";
          child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
          child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
          if (sigtermOnCreate) onCreate = () => child.kill("SIGTERM");
          child.once("exit", (code) => {
            onCreate = undefined;
            resolve({ code, stdout, stderr });
          });
        });
      const leftover = () => Object.values(CHAOS_KINDS).flatMap((k) => kube.objects(k, NS));
      const events = () => {
        const store = EnvStore.open(join(data, "env.db"));
        try {
          return [...store.events("rf-1")].filter((e) => e.phase === phase.name);
        } finally {
          store.close();
        }
      };
      const faultsCmd = ["run-faults", planFile, "--cycle", "rf-1", "--phase", phase.name, ...base];

      const started = await step(["start-cycle", planFile, "--cycle-id", "rf-1", ...base]);
      expect(started.code, started.stderr).toBe(0);

      // Killed (as Argo stops a pod) while its first fault holds: that fault undone, nothing left.
      const killed = await step(faultsCmd, true);
      expect(killed.code, killed.stderr).toBe(ExitCode.Interrupted);
      expect(JSON.parse(killed.stdout.trim())).toMatchObject({
        event: "faults",
        interrupted: true,
        applied: 1,
      });
      expect(created).toHaveLength(1);
      expect(leftover()).toStrictEqual([]);
      const first = events();
      expect(first.map((e) => e.kind).slice(0, 3)).toStrictEqual([
        FAULTS_STARTED,
        "fault.applied",
        "fault.undone",
      ]);
      expect(first.map((e) => e.kind)).not.toContain(FAULTS_ENDED);

      // Its retry runs the whole schedule (a new attempt), each fault on its own resource, all deleted.
      const retry = await step(faultsCmd);
      expect(retry.code, retry.stderr).toBe(0);
      expect(JSON.parse(retry.stdout.trim())).toMatchObject({
        event: "faults",
        faults: phase.faults.length,
        applied: phase.faults.length,
        undone: phase.faults.length,
        interrupted: false,
      });
      expect(created.slice(1).map((o) => o.metadata.labels?.[CHAOS_LABELS.scenario])).toStrictEqual(
        phase.faults.map((f) => f.scenario.replace(/_/g, "-")),
      );
      expect(leftover()).toStrictEqual([]);
      const second = events();
      expect(second.filter((e) => e.kind === FAULTS_STARTED).map((e) => e.detail.attempt)).toStrictEqual([
        1, 2,
      ]);
      expect(second.at(-1)!.kind).toBe(FAULTS_ENDED);

      // Run to its end once, a step is not run again.
      const again = await step(faultsCmd);
      expect(again.code, again.stderr).toBe(0);
      expect(JSON.parse(again.stdout.trim())).toStrictEqual({ event: "already_done", phase: phase.name });
      expect(created).toHaveLength(1 + phase.faults.length);

      // The gate reads the last run's figures: one per fault, judged against the rules.
      const gate = await step(["gate", planFile, "--cycle", "rf-1", "--phase", phase.name, ...base]);
      const verdict = JSON.parse(gate.stdout.trim()) as { rules: { check: string; outcome: string }[] };
      const outcome = (check: string) => verdict.rules.find((r) => r.check === check)?.outcome;
      expect(outcome("fault_recovery_missed")).toBe("pass");
      expect(outcome("sut_not_recovered")).toBe("pass");
      const store = EnvStore.open(join(data, "env.db"));
      try {
        expect(store.phases("rf-1").find((p) => p.name === phase.name)?.status).toBe("completed");
      } finally {
        store.close();
      }
    } finally {
      await Promise.all([kube.close(), sut.stop()]);
    }
  }, 240_000);

  it("refuses a local SUT (a step's own process, which no other step loads) and names the fix", async () => {
    const plan = chaosOnlyPlan("0.004");
    const planFile = join(dir, "chaos-local.json");
    writeFileSync(planFile, JSON.stringify(plan));
    const base = ["--data-dir", join(dir, "chaos-local"), "--env", "env-1"];
    const started = await runOrchestrator(["start-cycle", planFile, "--cycle-id", "rf-2", ...base]);
    expect(started.code, started.stderr).toBe(0);
    const r = await runOrchestrator(["run-faults", planFile, "--cycle", "rf-2", "--phase", "chaos", ...base]);
    expect(r.code).toBe(ExitCode.InvalidConfig);
    expect(r.stderr).toContain("TIERS_SUT_URL");
    const none = await runOrchestrator([
      "run-faults",
      planFile,
      "--cycle",
      "rf-9",
      "--phase",
      "chaos",
      ...base,
    ]);
    expect(none.code).toBe(ExitCode.InvalidConfig);
    expect(none.stderr).toContain("no cycle rf-9");
  }, 60_000);
});
