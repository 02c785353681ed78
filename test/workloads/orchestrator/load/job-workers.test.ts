/**
 * The cluster target's load engine against the Kubernetes API stand-in (test/support/kube-api.ts,
 * with its Job controller stand-in, job-controller.ts): a real Indexed Job body through
 * @kubernetes/client-node, refused unless the load Job Role allows it; its pods real `load-worker`
 * processes, run from the Job's own container args, against a loopback target; their protocol read
 * from the pods' logs. What no real cluster ran here: scheduling, the image, the quota's admission.
 */
import { KubeConfig } from "@kubernetes/client-node";
import { rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { jobProblems } from "../../../../policies/lib/jobs.js";
import {
  creatorLabelValue,
  LOAD_JOB_CREATOR_LABEL,
  LOAD_JOB_LABEL,
  LOAD_JOB_RULES,
  LOAD_JOB_TTL_S,
} from "../../../../tiers/infra/load-job.js";
import { parseHttpLoad } from "../../../../workloads/orchestrator/adapters/http-load.js";
import type { LoadReport } from "../../../../workloads/orchestrator/adapters/http-load-run.js";
import type { KubeContext } from "../../../../workloads/orchestrator/kube/context.js";
import {
  COMPLETION_INDEX,
  startJobWorkers,
  sweepLoadJobs,
  type JobWorkersOptions,
} from "../../../../workloads/orchestrator/load/job-workers.js";
import { splitLoad } from "../../../../workloads/orchestrator/load/merge.js";
import {
  jobController,
  type JobController,
  type JobControllerOptions,
} from "../../../support/job-controller.js";
import { startKubeApi, type KubeApiStandIn, type KubeRule } from "../../../support/kube-api.js";

const NS = "tiers-env-1";
const TOKEN = "job-engine-token";
const IMAGE = "ghcr.io/test-tiers/orchestrator:0.1.0";

/** The load Job Role, as the stack binds it: its rules, in the environment's namespace only. */
const ROLE: KubeRule[] = LOAD_JOB_RULES.map((r) => ({ ...r, namespaces: [NS] }));

let target: { server: Server; url: string; served: () => number };
beforeAll(async () => {
  let served = 0;
  const server = createServer((_req, res) => {
    served += 1;
    res.end("ok");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  target = {
    server,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    served: () => served,
  };
});
afterAll(() => new Promise<void>((r) => target.server.close(() => r())));

interface Cluster {
  api: KubeApiStandIn;
  jobs: JobController;
  kube: KubeContext;
  events: { kind: string; detail: Record<string, unknown> }[];
  options: (extra?: Partial<JobWorkersOptions>) => JobWorkersOptions;
}
const clusters: Cluster[] = [];
afterEach(async () => {
  for (const c of clusters.splice(0)) {
    await c.jobs.close();
    await c.api.close();
  }
});

async function cluster(
  controller: JobControllerOptions = {},
  rules: KubeRule[] | undefined = ROLE,
): Promise<Cluster> {
  const jobs = jobController(controller);
  const api = await startKubeApi({
    token: TOKEN,
    ...(rules ? { rules } : {}),
    onCreate: jobs.onCreate,
    onDelete: jobs.onDelete,
  });
  jobs.attach(api);
  const config = new KubeConfig();
  config.loadFromString(api.kubeconfig(NS));
  const kube: KubeContext = { config, namespace: NS, source: "stand-in" };
  const events: Cluster["events"] = [];
  const c: Cluster = {
    api,
    jobs,
    kube,
    events,
    options: (extra = {}) => ({
      kube,
      image: IMAGE,
      workerCapacityRps: 100,
      maxWorkers: 8,
      startAllowanceS: 3,
      pollMs: 200,
      onEvent: (kind, detail) => events.push({ kind, detail }),
      ...extra,
    }),
  };
  clusters.push(c);
  return c;
}

/** The deleted Job's pods exit in their termination grace, after the engine has its reports. */
const gone = (c: Cluster) =>
  vi.waitFor(() => expect(c.jobs.live()).toBe(0), { timeout: 20_000, interval: 100 });

const jobCreates = (api: KubeApiStandIn) =>
  api.requests.filter((r) => r.resource === "jobs" && r.verb === "create");

function secondsUnique(report: LoadReport): boolean {
  const s = report.seconds.map((x) => x.second);
  return new Set(s).size === s.length;
}

describe("load as an Indexed Job", () => {
  it("runs ceil(rps / capacity) pods of the Job it creates, each its share, merged into one report", async () => {
    const c = await cluster();
    const loops: { second: string[]; ended: string[] } = { second: [], ended: [] };
    const run = startJobWorkers(
      { url: target.url, connections: 6, rps: 300, durationS: 3 },
      c.options({
        eventLoop: {
          second: (pod, delay) => {
            expect(delay.max_ms).toBeGreaterThanOrEqual(delay.p99_ms);
            loops.second.push(String(pod));
          },
          ended: (pod) => loops.ended.push(String(pod)),
        },
      }),
    );
    const seconds: number[] = [];
    run.onSecond((s) => seconds.push(s.second));
    const report = await run.done;

    // The Job sent: what the pack's Job rules accept, Indexed, one pod per 100 rps.
    const [create] = jobCreates(c.api);
    expect(create?.status).toBe(201);
    expect(create?.namespace).toBe(NS);
    const body = create!.body as { spec: Record<string, unknown> };
    expect(jobProblems(body)).toStrictEqual([]);
    const spec = body.spec;
    expect(spec).toMatchObject({
      completionMode: "Indexed",
      completions: 3,
      parallelism: 3,
      backoffLimit: 0,
      ttlSecondsAfterFinished: LOAD_JOB_TTL_S,
    });
    const args = (spec as { template: { spec: { containers: { args: string[] }[] } } }).template.spec
      .containers[0]!.args;
    // No command: the image's tini stays PID 1 and runs its `orchestrator load-worker`.
    expect(
      (spec as { template: { spec: { containers: { command?: unknown }[] } } }).template.spec.containers[0]!
        .command,
    ).toBeUndefined();
    expect(args.slice(0, 2)).toStrictEqual(["orchestrator", "load-worker"]);
    expect(args).toEqual(expect.arrayContaining(["--index", "job", "--workers", "3", "--rps", "300"]));

    // Three pods ran, each its index's share; their figures add up to the run's.
    expect(c.jobs.started).toHaveLength(3);
    expect(report.workers).toHaveLength(3);
    const shares = splitLoad({ rps: 300, connections: 6 }, 3);
    for (const w of report.workers!) {
      expect(w.problem).toBeUndefined();
      expect(w.pod).toMatch(/^load-.*-\d-[0-9a-f]{5}$/);
      expect({ rps: w.rps, connections: w.connections }).toStrictEqual({
        rps: shares[w.index]!.rps,
        connections: shares[w.index]!.connections,
      });
      expect(w.requests).toBeGreaterThan(0);
    }
    const sum = report.workers!.reduce((a, w) => a + w.requests, 0);
    expect(report.totals.requests).toBe(sum);
    expect(report.histogram.count).toBe(sum);
    expect(target.served()).toBeGreaterThanOrEqual(sum);
    expect(report.totals.rps).toBeCloseTo(
      report.workers!.reduce((a, w) => a + w.achieved_rps, 0),
      6,
    );
    expect(secondsUnique(report)).toBe(true);
    expect(seconds).toStrictEqual(report.seconds.map((s) => s.second));
    // The adapter reads it as it reads the local engine's.
    const parsed = parseHttpLoad({ stdout: JSON.stringify(report), stderr: "", exitCode: 0, files: {} });
    expect(parsed.ok && parsed.metrics.workers).toBe(3);

    // Read through pods/log; the Job deleted once done; nothing left running.
    expect(
      c.api.requests.filter((r) => r.resource === "pods/log" && r.status === 200).length,
    ).toBeGreaterThanOrEqual(3);
    expect(c.api.objects("jobs", NS)).toStrictEqual([]);
    await gone(c);
    expect(c.events.map((e) => e.kind)).toEqual(
      expect.arrayContaining(["load.job.created", "load.job.deleted"]),
    );
    // Each pod's event-loop delay reached /metrics' sink under its pod's name, and its end.
    const pods = report.workers!.map((w) => w.pod!).sort();
    expect([...new Set(loops.second)].sort()).toStrictEqual(pods);
    expect([...loops.ended].sort()).toStrictEqual(pods);
  });

  it("caps the pods at the quota's workers, and an unthrottled run takes all of them", async () => {
    const c = await cluster();
    const capped = await startJobWorkers(
      { url: target.url, connections: 8, rps: 1000, durationS: 1 },
      c.options({ maxWorkers: 2 }),
    ).done;
    expect(capped.workers).toHaveLength(2);
    const open = await startJobWorkers(
      { url: target.url, connections: 3, durationS: 1 },
      c.options({ maxWorkers: 4 }),
    ).done;
    // Never more workers than connections.
    expect(open.workers).toHaveLength(3);
    expect(
      jobCreates(c.api).map((r) => (r.body as { spec: { parallelism: number } }).spec.parallelism),
    ).toStrictEqual([2, 3]);
  });

  it("starts every pod at the common start; a late pod runs what is left and is named", async () => {
    // Index 1's container starts 2 s after the common start (3 s after the Job).
    const c = await cluster({ startDelayMs: (i) => (i === 1 ? 5000 : 0) });
    const report = await startJobWorkers(
      { url: target.url, connections: 2, rps: 200, durationS: 4 },
      c.options(),
    ).done;
    const late = report.workers!.find((w) => w.index === 1)!;
    const onTime = report.workers!.find((w) => w.index === 0)!;
    expect(late.problem).toMatch(/started \d+\.\d s after the common start, so it ran \d+\.\d of 4 s/);
    expect(late.duration_s).toBeLessThan(onTime.duration_s);
    expect(late.requests).toBeGreaterThan(0);
    expect(onTime.problem).toBeUndefined();
    // Its seconds are numbered where the others' are: no second counted twice.
    expect(secondsUnique(report)).toBe(true);
    expect(Math.max(...report.seconds.map((s) => s.second))).toBeLessThanOrEqual(5);
  });

  it("names a pod that fails, writes a malformed or over-long line or another index's, and keeps what the others measured", async () => {
    const c = await cluster({
      command: (i) =>
        i === 1
          ? { file: process.execPath, args: ["-e", "console.error('boom: out of memory'); process.exit(3)"] }
          : i === 2
            ? {
                file: process.execPath,
                args: ["-e", "console.log(JSON.stringify({ kind: 'second', index: 2 }))"],
              }
            : i === 3
              ? { file: process.execPath, args: ["-e", "console.log('{' + 'x'.repeat(2 ** 21))"] }
              : i === 4
                ? {
                    file: process.execPath,
                    args: ["-e", "console.log(JSON.stringify({ kind: 'ready', index: 0, pid: 1 }))"],
                  }
                : undefined,
    });
    const report = await startJobWorkers(
      { url: target.url, connections: 5, rps: 500, durationS: 2 },
      c.options(),
    ).done;
    const by = new Map(report.workers!.map((w) => [w.index, w]));
    expect(by.get(0)!.problem).toBeUndefined();
    expect(by.get(0)!.requests).toBeGreaterThan(0);
    expect(by.get(1)!.problem).toMatch(
      /^pod load-\S+ exited with code 3 \(Failed: Error\) before its report, 0 seconds reported and kept \(log: boom: out of memory\)$/,
    );
    expect(by.get(2)!.problem).toMatch(/^pod load-\S+ wrote a malformed line 1: /);
    expect(by.get(3)!.problem).toMatch(
      /^pod load-\S+ wrote a (line over 1 MiB|malformed line 1: a line of \d+ bytes \(over 1 MiB\))/,
    );
    // Another index's line in this pod's log (a pod claiming to be another share).
    expect(by.get(4)!.problem).toMatch(/^pod load-\S+ wrote a malformed line 1: index 0, expected 4/);
    expect(report.totals.requests).toBe(by.get(0)!.requests);
    const parsed = parseHttpLoad({ stdout: JSON.stringify(report), stderr: "", exitCode: 0, files: {} });
    expect(parsed.ok && parsed.toolError).toMatch(/load worker 1: pod .* exited with code 3/);
    expect(c.api.objects("jobs", NS)).toStrictEqual([]);
  });

  it("reads a broken log stream again without losing or repeating a second", async () => {
    const c = await cluster();
    const run = startJobWorkers(
      { url: target.url, connections: 2, rps: 100, durationS: 4 },
      c.options({ startAllowanceS: 1 }),
    );
    // Break every pod's stream in the middle of the run.
    setTimeout(() => {
      for (const p of c.api.objects("pods", NS)) c.api.breakLogStreams(NS, p.metadata.name);
    }, 3000);
    const report = await run.done;
    expect(report.workers!.every((w) => w.problem === undefined)).toBe(true);
    expect(c.events.some((e) => e.kind === "load.job.log_interrupted")).toBe(true);
    expect(secondsUnique(report)).toBe(true);
    for (const w of report.workers!) {
      // Every second of each pod counted once: its seconds add up to at most its report.
      expect(w.requests).toBeGreaterThan(0);
    }
    const perSecond = report.seconds.reduce((a, s) => a + s.responses, 0);
    expect(perSecond).toBeLessThanOrEqual(report.totals.requests);
  });

  it("stop deletes the Job; its pods end their load and their reports are kept", async () => {
    const c = await cluster();
    const run = startJobWorkers(
      { url: target.url, connections: 2, rps: 200, durationS: 60 },
      c.options({ startAllowanceS: 1 }),
    );
    let seen = 0;
    run.onSecond(() => {
      seen += 1;
      if (seen === 2) run.stop();
    });
    const report = await run.done;
    expect(report.stopped_early).toBe(true);
    expect(report.workers!.every((w) => w.problem === undefined && w.requests > 0)).toBe(true);
    expect(Math.max(...report.workers!.map((w) => w.duration_s))).toBeLessThan(60);
    expect(
      c.api.requests.filter((r) => r.resource === "jobs" && r.verb === "delete").length,
    ).toBeGreaterThanOrEqual(1);
    expect(c.api.objects("jobs", NS)).toStrictEqual([]);
    await gone(c);
  });

  it("a Job the API refuses is a problem of every share, not a crash", async () => {
    // The orchestrator bound to a Role without Jobs.
    const c = await cluster({}, [
      { apiGroups: [""], resources: ["pods"], verbs: ["list"], namespaces: [NS] },
    ]);
    const report = await startJobWorkers(
      { url: target.url, connections: 2, rps: 100, durationS: 1 },
      c.options(),
    ).done;
    expect(report.totals.requests).toBe(0);
    for (const w of report.workers!)
      expect(w.problem).toMatch(
        new RegExp(
          `^the load Job ${NS}/load-\\S+ could not be created: 403 Forbidden: jobs.batch is forbidden: User ".*" cannot create resource "jobs" in API group "batch"`,
        ),
      );
    expect(c.jobs.started).toStrictEqual([]);
  });

  it("a Role that cannot list pods: the pods are given up, naming why, and the Job deleted", async () => {
    const c = await cluster({}, [
      { apiGroups: ["batch"], resources: ["jobs"], verbs: ["create", "delete"], namespaces: [NS] },
    ]);
    const report = await startJobWorkers(
      { url: target.url, connections: 1, rps: 10, durationS: 1 },
      c.options({ startAllowanceS: 0, giveUpGraceMs: 3000 }),
    ).done;
    expect(report.workers![0]!.problem).toMatch(
      /^no pod of the Job started \(listing its pods: 403 Forbidden: pods is forbidden: User ".*" cannot list resource "pods"/,
    );
    expect(c.api.objects("jobs", NS)).toStrictEqual([]);
    await gone(c);
  });

  it("the Role allows nothing beyond its namespace", async () => {
    const c = await cluster();
    const other: KubeContext = { ...c.kube, namespace: "tiers-env-2" };
    const report = await startJobWorkers(
      { url: target.url, connections: 1, rps: 10, durationS: 1 },
      c.options({ kube: other }),
    ).done;
    expect(report.workers![0]!.problem).toMatch(/403 Forbidden/);
    expect(c.api.objects("jobs")).toStrictEqual([]);
  });

  it("the start-up sweep deletes a Job a killed orchestrator left, and its pods stop", async () => {
    const c = await cluster();
    const run = startJobWorkers(
      { url: target.url, connections: 2, rps: 100, durationS: 120 },
      c.options({ startAllowanceS: 0 }),
    );
    await new Promise<void>((resolve) => run.onSecond(() => resolve()));
    // As if the orchestrator had died: its engine is gone, the Job goes on.
    const swept = await sweepLoadJobs(c.kube);
    expect(swept).toHaveLength(1);
    expect(c.api.objects("jobs", NS)).toStrictEqual([]);
    const report = await run.done;
    expect(report.workers!.every((w) => w.requests > 0)).toBe(true);
    await gone(c);
    expect(await sweepLoadJobs(c.kube)).toStrictEqual([]);
    // Another creator's Job: left while its pod lives, swept once it is gone.
    const other = (name: string, creator: string) =>
      c.api.put("batch", "jobs", {
        apiVersion: "batch/v1",
        kind: "Job",
        metadata: {
          name,
          namespace: NS,
          labels: { [LOAD_JOB_LABEL]: name, [LOAD_JOB_CREATOR_LABEL]: creator },
        },
      });
    c.api.put("", "pods", { metadata: { name: "orchestrator-7d9f-abcde", namespace: NS } });
    other("load-of-a-live-pod", "orchestrator-7d9f-abcde");
    other("load-of-a-gone-pod", "cycle-wf-run-load-123");
    expect(await sweepLoadJobs(c.kube)).toStrictEqual(["load-of-a-gone-pod"]);
    expect(c.api.objects("jobs", NS).map((j) => j.metadata.name)).toStrictEqual(["load-of-a-live-pod"]);
    c.api.remove("", "pods", NS, "orchestrator-7d9f-abcde");
    expect(await sweepLoadJobs(c.kube)).toStrictEqual(["load-of-a-live-pod"]);
    // The Jobs this engine creates say who created them.
    expect(
      jobCreates(c.api).every(
        (r) =>
          (r.body as { metadata: { labels: Record<string, string> } }).metadata.labels[
            LOAD_JOB_CREATOR_LABEL
          ] === creatorLabelValue(hostname()),
      ),
    ).toBe(true);
    expect(creatorLabelValue("-Pod_name.with:odd/chars-")).toBe("Pod_name.with-odd-chars");
    // Pods carry the completion index and the Job's label, which the engine selects on.
    expect(
      c.api.requests.some(
        (r) => r.resource === "pods" && r.query.labelSelector?.startsWith(`${LOAD_JOB_LABEL}=`),
      ),
    ).toBe(true);
    expect(COMPLETION_INDEX).toBe("batch.kubernetes.io/job-completion-index");
  });
});

describe("the orchestrator's load Job settings", () => {
  const base = {
    TIERS_ENVIRONMENT: "env-1",
    TIERS_DATA_DIR: "/nonexistent/tiers-job-config",
    TIERS_API_TOKEN: "t".repeat(24),
  };

  it("reads them from the Deployment's environment, numbers as text", async () => {
    const { loadOrchestratorConfig } = await import("../../../../workloads/orchestrator/config.js");
    const c = loadOrchestratorConfig(undefined, {
      ...base,
      TIERS_SUT_URL: "http://sut:8080",
      TIERS_LOAD_JOB_IMAGE: IMAGE,
      TIERS_LOAD_JOB_MAX_WORKERS: "12",
      TIERS_LOAD_WORKER_CAPACITY_RPS: "2500.5",
      TIERS_LOAD_JOB_START_S: "45",
    });
    expect([
      c.load_job_image,
      c.load_job_max_workers,
      c.load_worker_capacity_rps,
      c.load_job_start_s,
    ]).toStrictEqual([IMAGE, 12, 2500.5, 45]);
    expect(c.load_worker_service_account).toBe("load-worker");
  });

  it("names every bad one at once, with the variable it came from", async () => {
    const { loadOrchestratorConfig } = await import("../../../../workloads/orchestrator/config.js");
    let message = "";
    try {
      loadOrchestratorConfig(undefined, {
        ...base,
        TIERS_LOAD_JOB_MAX_WORKERS: "many",
        TIERS_LOAD_WORKER_CAPACITY_RPS: "0",
        TIERS_LOAD_JOB_START_S: "-3",
      });
    } catch (error) {
      message = String((error as Error & { details?: string[] }).details ?? (error as Error).message);
    }
    for (const v of [
      "TIERS_LOAD_JOB_MAX_WORKERS",
      "TIERS_LOAD_WORKER_CAPACITY_RPS",
      "TIERS_LOAD_JOB_START_S",
    ])
      expect(message).toContain(`environment ${v}`);
  });

  it("refuses load Jobs for a local SUT, or without the Kubernetes API, naming the fix", async () => {
    const { startRuntime } = await import("../../../../workloads/orchestrator/local-runtime.js");
    const { loadOrchestratorConfig } = await import("../../../../workloads/orchestrator/config.js");
    const local = loadOrchestratorConfig(undefined, { ...base, TIERS_LOAD_JOB_IMAGE: IMAGE });
    await expect(startRuntime(local, 1000, () => undefined)).rejects.toThrow(
      "load_job_image (TIERS_LOAD_JOB_IMAGE): load Jobs need an external SUT (TIERS_SUT_URL) their pods can reach",
    );
    const external = loadOrchestratorConfig(undefined, {
      ...base,
      TIERS_DATA_DIR: join(tmpdir(), `tiers-job-config-${process.pid}`),
      TIERS_SUT_URL: "http://127.0.0.1:9",
      TIERS_LOAD_JOB_IMAGE: IMAGE,
    });
    const saved = { k: process.env.TIERS_KUBECONFIG, h: process.env.KUBERNETES_SERVICE_HOST };
    delete process.env.TIERS_KUBECONFIG;
    delete process.env.KUBERNETES_SERVICE_HOST;
    try {
      await expect(startRuntime(external, 1000, () => undefined)).rejects.toThrow(
        "load_job_image (TIERS_LOAD_JOB_IMAGE) needs the Kubernetes API: run in a pod with its service account token, or set TIERS_KUBECONFIG",
      );
    } finally {
      if (saved.k !== undefined) process.env.TIERS_KUBECONFIG = saved.k;
      if (saved.h !== undefined) process.env.KUBERNETES_SERVICE_HOST = saved.h;
      rmSync(external.data_dir, { recursive: true, force: true });
    }
  });
});

describe("load-worker's Job flags", () => {
  const bin = new URL("../../../../bin/orchestrator.js", import.meta.url).pathname;
  it("refuses a bad --start-at, and an index with no share, naming each", async () => {
    const { execa } = await import("execa");
    const r = await execa(
      process.execPath,
      [
        bin,
        "load-worker",
        "--url",
        target.url,
        "--connections",
        "2",
        "--workers",
        "4",
        "--index",
        "job",
        "--start-at",
        "soon",
      ],
      { reject: false, env: { JOB_COMPLETION_INDEX: "3" } },
    );
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toContain("command line --start-at: not a valid value");
    expect(r.stdout).toBe("");
    const share = await execa(
      process.execPath,
      [bin, "load-worker", "--url", target.url, "--connections", "2", "--workers", "4", "--index", "job"],
      { reject: false, env: { JOB_COMPLETION_INDEX: "3" } },
    );
    expect(share.exitCode).toBe(3);
    expect(share.stderr).toContain(
      "JOB_COMPLETION_INDEX: no share for this index (got 3, expected an index below 2 (the shares of 0 rps over 2 connections for --workers 4))",
    );
    expect(share.stderr).not.toMatch(/\n\s+at /);
  });
});
