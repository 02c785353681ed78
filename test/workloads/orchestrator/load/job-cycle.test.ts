/**
 * A whole cycle of `orchestrator run-cycle` as the cluster target's Deployment runs it — external
 * SUT, TIERS_LOAD_JOB_IMAGE, the Kubernetes API through TIERS_KUBECONFIG — against the Kubernetes
 * API stand-in and its Job controller stand-in (test/support/kube-api.ts, job-controller.ts): every
 * stretch of load, the calibration's too, is an Indexed Job whose pods are real `load-worker`
 * processes; the orchestrator's own process generates none. SIGTERM mid-phase deletes the Job.
 */
import { KubeConfig } from "@kubernetes/client-node";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { LOAD_JOB_RULES } from "../../../../tiers/infra/load-job.js";
import { EnvStore } from "../../../../workloads/orchestrator/storage/env-store.js";
import type { SutSupervisor } from "../../../../workloads/sut/supervisor.js";
import { testPlan } from "../../../helpers/orchestrator.js";
import { jobController, type JobController } from "../../../support/job-controller.js";
import { startKubeApi, type KubeApiStandIn } from "../../../support/kube-api.js";
import { startSut } from "../../support/sut.js";

const BIN = fileURLToPath(new URL("../../../../bin/orchestrator.js", import.meta.url));
const NS = "tiers-env-1";
const TOKEN = "job-cycle-token";

let api: KubeApiStandIn;
let jobs: JobController;
let sut: SutSupervisor;
const dir = mkdtempSync(join(tmpdir(), "tiers-job-cycle-"));
let kubeconfig: string;

beforeAll(async () => {
  jobs = jobController({ terminationGraceMs: 5000 });
  api = await startKubeApi({
    token: TOKEN,
    rules: LOAD_JOB_RULES.map((r) => ({ ...r, namespaces: [NS] })),
    onCreate: jobs.onCreate,
    onDelete: jobs.onDelete,
  });
  jobs.attach(api);
  kubeconfig = join(dir, "kubeconfig");
  writeFileSync(kubeconfig, api.kubeconfig(NS), { mode: 0o600 });
  sut = await startSut();
});
afterAll(async () => {
  await jobs?.close();
  await api?.close();
  await sut?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** An orchestrator command as the cluster target runs it: external SUT, load Jobs, the stand-in's API. */
function orchestrator(
  args: readonly string[],
  onLine?: (line: string, kill: () => void) => void,
): Promise<{ code: number | null; stdout: string; stderr: string }> & { kill(): void } {
  let stop: () => void = () => undefined;
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        TIERS_SUT_URL: sut.url,
        TIERS_KUBECONFIG: kubeconfig,
        TIERS_LOAD_JOB_IMAGE: "ghcr.io/test-tiers/orchestrator:0.1.0",
        TIERS_LOAD_JOB_START_S: "4",
        // Small enough that the phases' rates need more than one pod.
        TIERS_LOAD_WORKER_CAPACITY_RPS: "4",
        TIERS_LOAD_JOB_MAX_WORKERS: "3",
      },
    });
    let stdout = "";
    let stderr = "";
    const kill = () => child.kill("SIGTERM");
    stop = kill;
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      if (onLine) for (const l of d.toString().split("\n")) if (l) onLine(l, kill);
    });
    const guard = setTimeout(() => child.kill("SIGKILL"), 200_000);
    child.once("exit", (code) => {
      clearTimeout(guard);
      resolve({ code, stdout, stderr });
    });
  });
  return Object.assign(done, { kill: () => stop() });
}

function runCycle(
  name: string,
  plan: unknown,
  onLine?: (line: string, kill: () => void) => void,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const planFile = join(dir, `${name}.json`);
  writeFileSync(planFile, JSON.stringify(plan));
  return orchestrator(
    ["run-cycle", planFile, "--cycle-id", name, "--data-dir", join(dir, name), "--env", "env-1"],
    onLine,
  );
}

const jobBodies = () =>
  api.requests
    .filter((r) => r.resource === "jobs" && r.verb === "create" && r.status === 201)
    .map(
      (r) =>
        r.body as {
          metadata: { name: string; labels: Record<string, string> };
          spec: { parallelism: number };
        },
    );

describe("run-cycle with its load as Indexed Jobs", () => {
  it("runs the calibration and every phase's load as Jobs of load-worker pods, and deletes each", async () => {
    const plan = testPlan({ tier: "base", time_scale: "0.004" });
    const before = jobBodies().length;
    const rc = await runCycle("jobs-1", plan);
    expect(rc.code, rc.stderr.slice(-2000)).toBe(0);
    const created = jobBodies().slice(before);
    const env = plan.environments[0]!;
    const loaded = env.phases.filter((p) => p.load.kind !== "none");
    // The calibration's Job and at least one per loaded phase.
    expect(created.length).toBeGreaterThanOrEqual(loaded.length + 1);
    expect(created.every((j) => j.metadata.labels["test-tiers/environment"] === "env-1")).toBe(true);
    expect(created.some((j) => j.spec.parallelism > 1)).toBe(true);
    // Each deleted by the orchestrator once its load was done; no pod left running.
    const deleted = api.requests.filter(
      (r) => r.resource === "jobs" && r.verb === "delete" && r.status === 200,
    );
    expect(new Set(deleted.map((r) => r.name))).toStrictEqual(new Set(created.map((j) => j.metadata.name)));
    expect(api.objects("jobs", NS)).toStrictEqual([]);
    await vi.waitFor(() => expect(jobs.live()).toBe(0), { timeout: 20_000, interval: 100 });

    // The phases' load results came from the pods: each names its workers' pods.
    const store = EnvStore.open(join(dir, "jobs-1", "env.db"));
    try {
      const loads = [...store.results("jobs-1")].filter((r) => r.test_id.endsWith("/load"));
      expect(loads.map((r) => r.test_id).sort()).toStrictEqual(loaded.map((p) => `${p.name}/load`).sort());
      for (const r of loads) {
        expect(r.status, `${r.test_id}: ${JSON.stringify(r.errors)} ${JSON.stringify(r.metrics)}`).toBe(
          "passed",
        );
        expect(r.metrics.requests?.value, JSON.stringify(r)).toBeGreaterThan(0);
        expect(r.metrics.workers?.value).toBeGreaterThan(0);
        // Its untouched output: the merged report, each worker a pod of the Job.
        const out = JSON.parse(readFileSync(join(dir, "jobs-1", r.raw.stdout!), "utf8")) as {
          workers: { pod?: string; requests: number }[];
        };
        expect(out.workers.length).toBe(r.metrics.workers?.value);
        for (const w of out.workers) expect(w.pod).toMatch(/^load-[a-z0-9]+-[0-9a-f]{6}-\d+-[0-9a-f]{5}$/);
      }
    } finally {
      store.close();
    }
  }, 240_000);

  it("SIGTERM during a phase deletes the running Job and ends its pods", async () => {
    const plan = testPlan({ tier: "base", time_scale: "0.02" });
    const before = jobBodies().length;
    let killed = false;
    const rc = await runCycle("jobs-term", plan, (line, kill) => {
      // The first phase's Job is up: stop the orchestrator.
      if (!killed && line.includes('"msg":"phase.started"') && jobBodies().length > before + 1) {
        killed = true;
        setTimeout(kill, 1500);
      }
    });
    expect(killed).toBe(true);
    expect(rc.code).toBe(130);
    expect(rc.stderr).not.toMatch(/\n\s+at /);
    const created = jobBodies().slice(before);
    expect(created.length).toBeGreaterThan(0);
    expect(api.objects("jobs", NS)).toStrictEqual([]);
    await vi.waitFor(() => expect(jobs.live()).toBe(0), { timeout: 20_000, interval: 100 });
    // The Kubernetes client reached the stand-in with the kubeconfig's token.
    const config = new KubeConfig();
    config.loadFromFile(kubeconfig);
    expect(config.getCurrentUser()?.token).toBe(TOKEN);
  }, 240_000);

  it("SIGTERM during a workflow's load step deletes its Job and commits nothing; the retry commits", async () => {
    const plan = testPlan({ tier: "base", time_scale: "0.02", load_mode: "absolute", load_scale: "0.01" });
    const planFile = join(dir, "step.json");
    writeFileSync(planFile, JSON.stringify(plan));
    const base = ["--data-dir", join(dir, "step"), "--env", "env-1"];
    const started = await orchestrator(["start-cycle", planFile, "--cycle-id", "step-1", ...base]);
    expect(started.code, started.stderr).toBe(0);
    const phase = plan.environments[0]!.phases.find((p) => p.load.kind !== "none")!;
    const before = jobBodies().length;
    const step = orchestrator([
      "run-test",
      planFile,
      "--cycle",
      "step-1",
      "--test",
      `${phase.name}/load`,
      ...base,
    ]);
    // The step's Job is up and its pods run: stop the step as Argo would.
    await vi.waitFor(() => expect(jobBodies().length > before && jobs.live() > 0).toBe(true), {
      timeout: 60_000,
      interval: 100,
    });
    step.kill();
    const term = await step;
    expect(term.code, term.stderr.slice(-1500)).toBe(130);
    expect(term.stdout).toContain('"event":"interrupted"');
    expect(term.stderr).not.toMatch(/\n\s+at /);
    expect(api.objects("jobs", NS)).toStrictEqual([]);
    await vi.waitFor(() => expect(jobs.live()).toBe(0), { timeout: 20_000, interval: 100 });
    const committed = () => {
      const store = EnvStore.open(join(dir, "step", "env.db"));
      try {
        return [...store.results("step-1")].map((r) => r.test_id);
      } finally {
        store.close();
      }
    };
    expect(committed()).toStrictEqual([]);
    const retry = await orchestrator([
      "run-test",
      planFile,
      "--cycle",
      "step-1",
      "--test",
      `${phase.name}/load`,
      ...base,
    ]);
    expect(retry.code, retry.stderr.slice(-1500)).toBe(0);
    expect(committed()).toStrictEqual([`${phase.name}/load`]);
  }, 240_000);
});
