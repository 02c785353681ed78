import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CyclePlan } from "../../../tiers/plan/schema.js";
import { hashPlan } from "../../../tiers/plan/hash.js";
import { renderWorkflowTemplate } from "../../../tiers/workflow/argo.js";
import type { SutSupervisor } from "../../../workloads/sut/supervisor.js";
import { EnvStore } from "../../../workloads/orchestrator/storage/env-store.js";
import { testPlan } from "../../helpers/orchestrator.js";
import { runOrchestrator } from "../../helpers/orchestrator-cli.js";
import {
  interpretWorkflowTemplate,
  NOT_INTERPRETED,
  type WorkflowRun,
} from "../../support/argo-interpreter.js";
import { startSut } from "../../workloads/support/sut.js";

const dir = mkdtempSync(join(tmpdir(), "tiers-argo-run-"));
let healthy: SutSupervisor;
let failing: SutSupervisor;
beforeAll(async () => {
  healthy = await startSut();
  // Every other request answered 500: the baseline gate (error_rate > 0.1) aborts the cycle.
  failing = await startSut({ work: { errorRate: 0.5 } });
});
afterAll(async () => {
  await Promise.all([healthy?.stop(), failing?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

interface Record_ {
  readonly cycle: { status: string; verdict: string; reason: string | null };
  readonly results: string[];
  readonly phases: string[];
}

/**
 * The plan both paths run. The comparison is of the two paths, not of the machine: a rule on what
 * the machine measures of itself (iperf3's bandwidth and CPU, fio's IOPS, stress-ng's bogo-ops) can
 * flip between two runs on a loaded 2-core machine, so those tests keep only the contract's
 * required results. The SUT's rules (the probe's error rate and latency, the gates) stay as
 * shipped: the failing SUT answers every other request 500, far beyond any threshold.
 */
function comparablePlan(): CyclePlan {
  const plan = testPlan({ tier: "base", time_scale: "0.01", load_scale: "0.1" });
  const machine = new Set(["iperf3", "fio", "stress-ng"]);
  for (const env of plan.environments)
    for (const phase of env.phases)
      for (const t of phase.tests) if (machine.has(t.tool)) (t as { rules: object }).rules = {};
  // A changed plan is a new plan: its hash is recomputed, as compilePlan does.
  return { ...plan, hash: hashPlan(plan) };
}

/** Why each result that did not pass did not, for the failure message. */
function whyNot(dataDir: string, cycleId: string): string {
  const store = EnvStore.open(join(dataDir, "env.db"));
  try {
    return [...store.results(cycleId)]
      .filter((r) => r.status !== "passed")
      .map((r) => `${r.test_id} ${r.status}: ${JSON.stringify(r.errors)}`)
      .join("\n");
  } finally {
    store.close();
  }
}

function record(dataDir: string, cycleId: string): Record_ {
  const store = EnvStore.open(join(dataDir, "env.db"));
  try {
    const c = store.getCycle(cycleId)!;
    return {
      // The measured value in an abort reason is the run's own (two runs against one live SUT).
      cycle: {
        status: c.status,
        verdict: c.verdict!,
        reason: c.reason?.replace(/ [0-9.]+ ([<>]=?) /, " <measured> $1 ") ?? null,
      },
      results: [...store.results(cycleId)].map((r) => `${r.test_id} ${r.status}`).sort(),
      phases: store
        .phases(cycleId)
        .sort((a, b) => a.idx - b.idx)
        .map((p) => `${p.name} ${p.status} ${p.summary?.gate.verdict ?? "-"}`),
    };
  } finally {
    store.close();
  }
}

/** The same plan through the template (interpreted) and through `orchestrator run-cycle`. */
async function bothWays(
  name: string,
  plan: CyclePlan,
  sutUrl: string,
): Promise<{ workflow: Record_; runCycle: Record_; run: WorkflowRun; why: string }> {
  const planFile = join(dir, `${name}.json`);
  writeFileSync(planFile, JSON.stringify(plan));
  const env = (data: string) => [
    { name: "TIERS_ENVIRONMENT", value: "env-1" },
    { name: "TIERS_DATA_DIR", value: data },
    { name: "TIERS_SUT_URL", value: sutUrl },
  ];
  const wfData = join(dir, name, "workflow");
  const template = renderWorkflowTemplate(plan, "env-1", {
    image: "ghcr.io/test-tiers/orchestrator:0.1.0",
    planPath: planFile,
    env: env(wfData),
  });
  const run = await interpretWorkflowTemplate(template, { workflowName: `${name}-wf` });

  const rcData = join(dir, name, "run-cycle");
  const rc = await runOrchestrator([
    "run-cycle",
    planFile,
    "--cycle-id",
    `${name}-rc`,
    "--data-dir",
    rcData,
    "--env",
    "env-1",
  ]).then((r) => r);
  // run-cycle's stderr is its structured log (pino, one JSON object a line): nothing else, no
  // error-level entry, and it ends the cycle.
  const logLines = rc.stderr.split("\n").filter(Boolean);
  const entries = logLines.map((l) => JSON.parse(l) as { level: number; msg: string });
  expect(entries.filter((e) => e.level >= 50)).toStrictEqual([]);
  expect(entries.at(-1)?.msg).toBe("cycle.ended");
  // run-cycle reads TIERS_SUT_URL from its environment like the steps do.
  return {
    workflow: record(wfData, `${name}-wf`),
    runCycle: record(rcData, `${name}-rc`),
    run,
    why: `workflow:\n${whyNot(wfData, `${name}-wf`)}\nrun-cycle:\n${whyNot(rcData, `${name}-rc`)}`,
  };
}

describe("the rendered WorkflowTemplate, run step by step as Argo runs it", () => {
  it("lists what it does not interpret: pod placement and cleanup only", () => {
    expect([...NOT_INTERPRETED].sort()).toStrictEqual(
      [
        "affinity",
        "automountServiceAccountToken",
        "executor",
        "podGC",
        "podMetadata",
        "securityContext",
        "serviceAccountName",
        "ttlStrategy",
        "volumes",
      ].sort(),
    );
  });

  it("gives the record run-cycle gives for a passing plan: same results, phases, gates and verdict", async () => {
    const plan = comparablePlan();
    process.env.TIERS_SUT_URL = healthy.url;
    let out;
    try {
      out = await bothWays("pass", plan, healthy.url);
    } finally {
      delete process.env.TIERS_SUT_URL;
    }
    const { workflow, runCycle, run } = out;
    for (const s of run.steps) expect(s.stderr, `${s.path}: ${s.stderr}`).toBe("");
    expect(run.phase).toBe("Succeeded");
    expect(workflow, out.why).toStrictEqual(runCycle);
    expect(workflow.cycle).toStrictEqual({ status: "completed", verdict: "passed", reason: null });

    // The template's order: start-cycle first; each phase's run-tests before its gate, which comes
    // before the next phase; finish-cycle and export last.
    const env = plan.environments[0]!;
    const order = run.steps.map((s) => s.template);
    expect(order[0]).toBe("start-cycle");
    expect(order.slice(-2)).toStrictEqual(["finish-cycle", "export"]);
    const gates = run.steps.filter((s) => s.template === "gate");
    expect(gates.map((g) => g.args[g.args.indexOf("--phase") + 1])).toStrictEqual(
      env.phases.map((p) => p.name),
    );
    for (const [i, gate] of gates.entries()) {
      const mine = run.steps.filter(
        (s) =>
          s.template === "run-test" &&
          s.args[s.args.indexOf("--test") + 1]!.startsWith(`${env.phases[i]!.name}/`),
      );
      expect(mine.length).toBeGreaterThan(0);
      for (const t of mine) expect(t.endedMs).toBeLessThanOrEqual(gate.startedMs);
      const next = gates[i + 1];
      if (next) for (const t of mine) expect(t.startedMs).toBeLessThan(next.startedMs);
    }
    // No phase ran more of its tests at once than the plan allows.
    expect(run.concurrency.size).toBeGreaterThan(0);
    for (const n of run.concurrency.values()) expect(n).toBeLessThanOrEqual(env.max_parallel + 1);
    const exported = run.steps.at(-1)!;
    expect(exported.code).toBe(0);
    expect(JSON.parse(exported.stdout.trim())).toMatchObject({ event: "exported", cycle_id: "pass-wf" });
  }, 300_000);

  it("stops where run-cycle stops when a gate aborts: the next phase's `when` is false, the exit handler still records and exports", async () => {
    const plan = comparablePlan();
    process.env.TIERS_SUT_URL = failing.url;
    let out;
    try {
      out = await bothWays("abort", plan, failing.url);
    } finally {
      delete process.env.TIERS_SUT_URL;
    }
    const { workflow, runCycle, run } = out;
    expect(workflow, out.why).toStrictEqual(runCycle);
    expect(workflow.cycle.status).toBe("aborted");
    expect(workflow.phases).toContain("light not_run not_run");
    expect(run.skipped).toStrictEqual(["cycle/idle/next-baseline/next-light"]);
    expect(run.steps.map((s) => s.template).slice(-2)).toStrictEqual(["finish-cycle", "export"]);
    expect(run.steps.at(-1)!.code).toBe(0);
  }, 300_000);
});
