import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { CyclePlan } from "../../../tiers/plan/schema.js";
import { hashPlan } from "../../../tiers/plan/hash.js";
import { chaosRoleRules } from "../../../components/environment/chaos-access.js";
import { loadJobEnv, WORKFLOW_SERVICE_ACCOUNT } from "../../../components/environment/workflow-options.js";
import { CHAOS_KINDS, CHAOS_LABELS } from "../../../tiers/infra/chaos-mesh.js";
import { LOAD_JOB_RULES } from "../../../tiers/infra/load-job.js";
import {
  FAULTS_STEP,
  LOAD_STEP_TEMPLATE,
  phaseStepIds,
  renderWorkflowTemplate,
  type WorkflowRenderOptions,
} from "../../../tiers/workflow/argo.js";
import type { SutSupervisor } from "../../../workloads/sut/supervisor.js";
import { EnvStore } from "../../../workloads/orchestrator/storage/env-store.js";
import { testPlan } from "../../helpers/orchestrator.js";
import { runOrchestrator } from "../../helpers/orchestrator-cli.js";
import {
  interpretWorkflowTemplate,
  NOT_INTERPRETED,
  type WorkflowRun,
} from "../../support/argo-interpreter.js";
import { jobController, type JobController } from "../../support/job-controller.js";
import { startKubeApi, type KubeApiStandIn, type StoredObject } from "../../support/kube-api.js";
import { startSut } from "../../workloads/support/sut.js";

const dir = mkdtempSync(join(tmpdir(), "tiers-argo-run-"));
/** The environment's namespace on the Kubernetes API stand-in, and who the chaos steps call it as. */
const NS = "tiers-env-1";
const TOKEN = "argo-run-stand-in-token";
let healthy: SutSupervisor;
let failing: SutSupervisor;
let kube: KubeApiStandIn;
let kubeconfigFile: string;
/** Chaos resources the stand-in stored, as created (deleted ones included). */
const created: StoredObject[] = [];
beforeAll(async () => {
  healthy = await startSut();
  // Every other request answered 500: the baseline gate (error_rate > 0.1) aborts the cycle.
  failing = await startSut({ work: { errorRate: 0.5 } });
  // The chaos-injector Role (components/environment/chaos-access.ts) is all either path may do;
  // every resource is validated against Chaos Mesh's CRD where the reference CRDs are present.
  kube = await startKubeApi({
    token: TOKEN,
    user: `system:serviceaccount:${NS}:argo-workflow`,
    rules: chaosRoleRules().map((r) => ({
      apiGroups: r.apiGroups as string[],
      resources: r.resources as string[],
      verbs: r.verbs as string[],
      namespaces: [NS],
    })),
    onCreate: (object) => created.push(object),
  });
  kubeconfigFile = join(dir, "kubeconfig");
  writeFileSync(kubeconfigFile, kube.kubeconfig(NS), { mode: 0o600 });
});
afterAll(async () => {
  await Promise.all([healthy?.stop(), failing?.stop(), kube?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

interface Record_ {
  readonly cycle: { status: string; verdict: string; reason: string | null };
  readonly results: string[];
  readonly phases: string[];
  /** Per phase with faults: each gate rule's check and outcome. */
  readonly faultGates: string[];
  /** Per fault of the schedule: its scenario and the kinds of its events, in order. */
  readonly faults: string[];
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

/** The phases of the compared plan that have faults. */
let faultPhases = new Set<string>();

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
      faultGates: store
        .phases(cycleId)
        .filter((p) => faultPhases.has(p.name))
        .flatMap((p) => (p.summary?.gate.rules ?? []).map((r) => `${p.name} ${r.check} ${r.outcome}`)),
      faults: [...faultPhases].flatMap((phase) => {
        const events = [...store.events(cycleId)].filter(
          (e) => e.phase === phase && e.scenario !== undefined && /^(fault|sut)\./.test(e.kind),
        );
        const scenarios = [...new Set(events.map((e) => e.scenario!))];
        return scenarios.map(
          (sc) =>
            `${phase} ${sc}: ${events
              .filter((e) => e.scenario === sc)
              .map((e) => e.kind)
              .join(" ")}`,
        );
      }),
    };
  } finally {
    store.close();
  }
}

/** How a path reaches the cluster: the step pods' render options and token, run-cycle's environment. */
interface ClusterAccess {
  readonly render: Partial<WorkflowRenderOptions>;
  /** What a pod that mounts the ServiceAccount's token gets (the stand-in's kubeconfig). */
  readonly serviceAccountEnv: NodeJS.ProcessEnv;
  /** run-cycle's, as the orchestrator's Deployment sets it. */
  readonly runCycleEnv: NodeJS.ProcessEnv;
}

/** The same plan through the template (interpreted) and through `orchestrator run-cycle`. */
async function bothWays(
  name: string,
  plan: CyclePlan,
  sutUrl: string,
  cluster?: ClusterAccess,
): Promise<{ workflow: Record_; runCycle: Record_; run: WorkflowRun; why: string }> {
  faultPhases = new Set(plan.environments[0]!.phases.filter((p) => p.faults.length > 0).map((p) => p.name));
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
    ...cluster?.render,
  });
  const run = await interpretWorkflowTemplate(template, {
    workflowName: `${name}-wf`,
    ...(cluster ? { serviceAccountEnv: cluster.serviceAccountEnv } : {}),
  });

  const rcData = join(dir, name, "run-cycle");
  Object.assign(process.env, cluster?.runCycleEnv);
  const rc = await runOrchestrator([
    "run-cycle",
    planFile,
    "--cycle-id",
    `${name}-rc`,
    "--data-dir",
    rcData,
    "--env",
    "env-1",
  ]).finally(() => {
    for (const k of Object.keys(cluster?.runCycleEnv ?? {})) delete process.env[k];
  });
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
          (s.template === "run-test" || s.template === LOAD_STEP_TEMPLATE) &&
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

/**
 * A plan with faults: the chaos tier's chaos phase alone (its variable load, its tests, its five
 * faults on the seed's schedule), compared as `comparablePlan` compares (the machine's own rules
 * dropped).
 */
function chaosPlan(): CyclePlan {
  const plan = testPlan({ tier: "chaos", time_scale: "0.01", load_scale: "0.1" });
  const machine = new Set(["iperf3", "fio", "stress-ng"]);
  const environments = plan.environments.map((env) => ({
    ...env,
    phases: env.phases.filter((p) => p.faults.length > 0),
  }));
  for (const env of environments)
    for (const phase of env.phases)
      for (const t of phase.tests) if (machine.has(t.tool)) (t as { rules: object }).rules = {};
  const changed = { ...plan, environments };
  return { ...changed, hash: hashPlan(changed) };
}

/** Chaos resources left in the environment's namespace. */
const leftover = (): StoredObject[] => Object.values(CHAOS_KINDS).flatMap((k) => kube.objects(k, NS));

/** The kind and scenario of each chaos resource created for a cycle, in creation order. */
const createdFor = (cycleId: string): string[] =>
  created
    .filter((o) => o.metadata.labels?.[CHAOS_LABELS.cycle] === cycleId)
    .map((o) => `${o.kind} ${o.metadata.labels?.[CHAOS_LABELS.scenario] ?? "?"}`);

describe("a plan with faults, run step by step as Argo runs it, against Chaos Mesh through the Kubernetes API stand-in", () => {
  it("runs the chaos phase's faults in a step beside its load, with run-cycle's events, resources, recovery figures and gate", async () => {
    const plan = chaosPlan();
    const phase = plan.environments[0]!.phases[0]!;
    expect(phase.faults.length).toBeGreaterThan(0);
    const cluster: ClusterAccess = {
      // As the environment renders it (components/environment/workflow-options.ts): the pods run
      // as the workflow's ServiceAccount without its token, except the run-faults step's.
      render: {
        serviceAccountName: "argo-workflow",
        faults: { env: [{ name: "TIERS_FAULTS", value: "chaos-mesh" }], kubeApi: true },
      },
      serviceAccountEnv: { TIERS_KUBECONFIG: kubeconfigFile },
      runCycleEnv: { TIERS_FAULTS: "chaos-mesh", TIERS_KUBECONFIG: kubeconfigFile },
    };
    process.env.TIERS_SUT_URL = healthy.url;
    let out;
    try {
      out = await bothWays("chaos", plan, healthy.url, cluster);
    } finally {
      delete process.env.TIERS_SUT_URL;
    }
    const { workflow, runCycle, run } = out;
    for (const s of run.steps) expect(s.stderr, `${s.path}: ${s.stderr}`).toBe("");
    expect(run.phase).toBe("Succeeded");
    expect(workflow, out.why).toStrictEqual(runCycle);

    // Every fault of the schedule applied, undone, measured and followed to the SUT's recovery.
    expect(workflow.faults).toStrictEqual(
      phase.faults.map(
        (f) => `${phase.name} ${f.scenario}: fault.applied fault.undone fault.recovery sut.recovery`,
      ),
    );
    // The gate judged the faults' figures (without them both rules are not_evaluated).
    expect(workflow.faultGates).toContain(`${phase.name} fault_recovery_missed pass`);
    expect(workflow.faultGates).toContain(`${phase.name} sut_not_recovered pass`);
    // One Chaos Mesh resource per fault along each path, in the schedule's order, none left.
    const kinds = createdFor("chaos-wf");
    expect(kinds).toHaveLength(phase.faults.length);
    expect(kinds.map((k) => k.split(" ")[1])).toStrictEqual(
      phase.faults.map((f) => f.scenario.replace(/_/g, "-")),
    );
    expect(createdFor("chaos-rc")).toStrictEqual(kinds);
    expect(leftover()).toStrictEqual([]);

    // The faults step ran in the phase's group, beside its load, before its gate; only its pod
    // had the ServiceAccount's token.
    const faults = run.steps.filter((s) => s.template === "run-faults");
    expect(faults.map((s) => s.path)).toStrictEqual([`cycle/${phase.name}/${FAULTS_STEP}`]);
    expect(faults[0]!.args.slice(-2)).toStrictEqual(["--phase", phase.name]);
    expect(run.steps.filter((s) => s.serviceAccountToken).map((s) => s.template)).toStrictEqual([
      "run-faults",
    ]);
    const loads = run.steps.filter((s) => s.template === LOAD_STEP_TEMPLATE);
    expect(loads.length).toBeGreaterThan(0);
    expect(faults[0]!.startedMs).toBeLessThan(loads.at(-1)!.endedMs);
    expect(loads[0]!.startedMs).toBeLessThan(faults[0]!.endedMs);
    const gate = run.steps.find((s) => s.template === "gate")!;
    expect(gate.startedMs).toBeGreaterThanOrEqual(faults[0]!.endedMs);
    expect(JSON.parse(faults[0]!.stdout.trim())).toMatchObject({
      event: "faults",
      phase: phase.name,
      faults: phase.faults.length,
      applied: phase.faults.length,
      undone: phase.faults.length,
      interrupted: false,
    });

    // A retried step finds the schedule run to its end and does not run it again.
    const before = created.length;
    Object.assign(process.env, {
      TIERS_SUT_URL: healthy.url,
      TIERS_FAULTS: "chaos-mesh",
      TIERS_KUBECONFIG: kubeconfigFile,
    });
    let retry;
    try {
      retry = await runOrchestrator([
        "run-faults",
        join(dir, "chaos.json"),
        "--cycle",
        "chaos-wf",
        "--phase",
        phase.name,
        "--data-dir",
        join(dir, "chaos", "workflow"),
        "--env",
        "env-1",
      ]);
    } finally {
      for (const k of ["TIERS_SUT_URL", "TIERS_FAULTS", "TIERS_KUBECONFIG"]) delete process.env[k];
    }
    expect(retry.code, retry.stderr).toBe(0);
    expect(retry.events).toStrictEqual([{ event: "already_done", phase: phase.name }]);
    expect(created.length).toBe(before);
  }, 300_000);
});

/**
 * A relative plan (start-cycle calibrates) with the base tier's loaded phases, compared as
 * `comparablePlan` compares and without the `band_missed` rules too: in relative mode a phase aims
 * at its CPU band through the calibration's measured cost a request, which two runs on a loaded
 * 2-core machine measure differently, so whether the band was met (a warning) can flip between
 * them. The gates on what the SUT answers (error rate, latency, sut_down) stay.
 */
function jobsPlan(): CyclePlan {
  // Absolute: the seed's rates scaled, no calibration (a calibration through Jobs is a Job per ramp
  // step, minutes here; start-cycle's calibration through Jobs is job-cycle.test.ts's).
  const plan = testPlan({ tier: "base", time_scale: "0.005", load_scale: "0.1", load_mode: "absolute" });
  const machine = new Set(["iperf3", "fio", "stress-ng"]);
  const environments = plan.environments.map((env) => ({
    ...env,
    phases: env.phases.map((p) => ({ ...p, gate: p.gate.filter((r) => r.check !== "band_missed") })),
  }));
  for (const env of environments)
    for (const phase of env.phases)
      for (const t of phase.tests) if (machine.has(t.tool)) (t as { rules: object }).rules = {};
  const changed = { ...plan, environments };
  return { ...changed, hash: hashPlan(changed) };
}

describe("the load steps, run step by step as Argo runs them, as Indexed Jobs through the Kubernetes API stand-in", () => {
  const JOBS_TOKEN = "argo-run-load-jobs-token";
  let api: KubeApiStandIn;
  let controller: JobController;
  let jobsKubeconfig: string;
  /** Each Job the stand-in stored, with when. */
  const jobsCreated: { atMs: number; name: string; parallelism: number }[] = [];
  beforeAll(async () => {
    controller = jobController({ terminationGraceMs: 5000 });
    // The orchestrator-load-jobs Role (LOAD_JOB_RULES) is all either path may do.
    api = await startKubeApi({
      token: JOBS_TOKEN,
      user: `system:serviceaccount:${NS}:${WORKFLOW_SERVICE_ACCOUNT}`,
      rules: LOAD_JOB_RULES.map((r) => ({ ...r, namespaces: [NS] })),
      onCreate: (object, request) => {
        if (object.kind === "Job")
          jobsCreated.push({
            atMs: Date.now(),
            name: object.metadata.name,
            parallelism: (object as unknown as { spec: { parallelism: number } }).spec.parallelism,
          });
        controller.onCreate(object, request);
      },
      onDelete: controller.onDelete,
    });
    controller.attach(api);
    jobsKubeconfig = join(dir, "jobs-kubeconfig");
    writeFileSync(jobsKubeconfig, api.kubeconfig(NS), { mode: 0o600 });
  });
  afterAll(async () => {
    await controller?.close();
    await api?.close();
  });

  it("runs every load segment as Jobs of load-worker pods, with run-cycle's record under the same Job engine", async () => {
    const plan = jobsPlan();
    const env = plan.environments[0]!;
    const image = "ghcr.io/test-tiers/orchestrator:0.1.0";
    // The stack's variables (the orchestrator's Deployment and the load steps get the same), with a
    // worker capacity small enough that the phases' rates need more than one pod, and a short start.
    const jobEnv = [
      ...loadJobEnv(image, 3).map((e) =>
        e.name === "TIERS_LOAD_WORKER_CAPACITY_RPS" ? { ...e, value: "4" } : e,
      ),
      { name: "TIERS_LOAD_JOB_START_S", value: "3" },
    ];
    const cluster: ClusterAccess = {
      // As the environment renders it with room for load workers (workflow-options.ts).
      render: { serviceAccountName: WORKFLOW_SERVICE_ACCOUNT, load: { env: jobEnv, kubeApi: true } },
      serviceAccountEnv: { TIERS_KUBECONFIG: jobsKubeconfig },
      runCycleEnv: {
        TIERS_KUBECONFIG: jobsKubeconfig,
        ...Object.fromEntries(jobEnv.map((e) => [e.name, e.value])),
      },
    };
    process.env.TIERS_SUT_URL = healthy.url;
    let out;
    try {
      out = await bothWays("jobs", plan, healthy.url, cluster);
    } finally {
      delete process.env.TIERS_SUT_URL;
    }
    const { workflow, runCycle, run } = out;
    for (const s of run.steps) expect(s.stderr, `${s.path}: ${s.stderr}`).toBe("");
    expect(run.phase).toBe("Succeeded");
    expect(workflow, out.why).toStrictEqual(runCycle);
    expect(workflow.cycle).toStrictEqual({ status: "completed", verdict: "passed", reason: null });

    // The load-generating steps, and only they, had the ServiceAccount's token: one run-load step
    // per load segment, each running that segment's id (start-cycle calibrates nothing here).
    const loadIds = env.phases.flatMap((p) =>
      phaseStepIds(p).filter((id) => id.startsWith(`${p.name}/load`)),
    );
    expect(loadIds.length).toBeGreaterThan(0);
    const loadSteps = run.steps.filter((s) => s.template === LOAD_STEP_TEMPLATE);
    expect(loadSteps.map((s) => s.args[s.args.indexOf("--test") + 1])).toStrictEqual(loadIds);
    expect(run.steps.filter((s) => s.serviceAccountToken).map((s) => s.template)).toStrictEqual(
      loadIds.map(() => LOAD_STEP_TEMPLATE),
    );
    const others = run.steps.filter((s) => s.template === "run-test");
    expect(others.length).toBeGreaterThan(0);

    // Every Job of the workflow was created while a load step ran, each segment at least one; some
    // needed more than one pod.
    const workflowEnd = run.steps.at(-1)!.endedMs;
    const wfJobs = jobsCreated.filter((j) => j.atMs <= workflowEnd);
    const within = (s: { startedMs: number; endedMs: number }) =>
      wfJobs.filter((j) => j.atMs >= s.startedMs && j.atMs <= s.endedMs);
    const wfStore = EnvStore.open(join(dir, "jobs", "workflow", "env.db"));
    try {
      for (const s of loadSteps) expect(within(s).length, s.path).toBeGreaterThanOrEqual(1);
      expect(wfJobs).toHaveLength(loadSteps.reduce((n, s) => n + within(s).length, 0));
      expect(wfJobs.some((j) => j.parallelism > 1)).toBe(true);

      // Each segment's Result came from the Job's pods: its merged output names each worker's pod,
      // one the Job controller stand-in ran as a real load-worker process.
      const results = [...wfStore.results("jobs-wf")].filter((r) => loadIds.includes(r.test_id));
      expect(results.map((r) => r.test_id).sort()).toStrictEqual([...loadIds].sort());
      for (const r of results) {
        expect(r.status, `${r.test_id}: ${JSON.stringify(r.errors)}`).toBe("passed");
        expect(r.metrics.requests?.value).toBeGreaterThan(0);
        const output = JSON.parse(readFileSync(join(dir, "jobs", "workflow", r.raw.stdout!), "utf8")) as {
          workers: { pod?: string; requests: number }[];
        };
        expect(output.workers.length).toBe(r.metrics.workers?.value);
        for (const w of output.workers) expect(controller.started).toContain(`${NS}/${w.pod}`);
      }
    } finally {
      wfStore.close();
    }
    // run-cycle ran its load as Jobs too (after the workflow), and every Job was deleted.
    expect(jobsCreated.length).toBeGreaterThan(wfJobs.length);
    expect(api.objects("jobs", NS)).toStrictEqual([]);
    await vi.waitFor(() => expect(controller.live()).toBe(0), { timeout: 20_000, interval: 100 });
  }, 400_000);
});
