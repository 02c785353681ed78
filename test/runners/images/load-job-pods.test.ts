/**
 * A load Job's pods as the orchestrator image runs them: the Job controller stand-in
 * (test/support/job-controller.ts) in its podman mode starts each pod's container with `podman run`
 * from the Job's own image, args (no command: the image's tini is PID 1), user, CPU and memory
 * limits and a read-only root, and stops it with `podman stop` (SIGTERM to PID 1) when the Job is
 * deleted. Host network, so the pods reach the loopback target. Skipped, and says so, without podman.
 */
import { KubeConfig } from "@kubernetes/client-node";
import { execa } from "execa";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { imageRef, projectVersion } from "../../../runners/images/images.js";
import { LOAD_JOB_RULES } from "../../../tiers/infra/load-job.js";
import { startJobWorkers, type JobWorkersOptions } from "../../../workloads/orchestrator/load/job-workers.js";
import { ensureImages, podmanProblem } from "../../support/images.js";
import { jobController, type JobController } from "../../support/job-controller.js";
import { startKubeApi, type KubeApiStandIn } from "../../support/kube-api.js";

const problem = podmanProblem();
if (problem) console.warn(`skipped: the load Job pod test needs podman: ${problem}`);

const NS = "tiers-env-1";
let api: KubeApiStandIn;
let jobs: JobController;
let target: Server;
let url: string;
let options: JobWorkersOptions;

describe.skipIf(problem !== undefined)("load Job pods in the orchestrator image (real podman)", () => {
  beforeAll(async () => {
    await ensureImages((l) => console.log(l));
    jobs = jobController({ runtime: "podman", terminationGraceMs: 10_000 });
    api = await startKubeApi({
      token: "pods-in-containers",
      rules: LOAD_JOB_RULES.map((r) => ({ ...r, namespaces: [NS] })),
      onCreate: jobs.onCreate,
      onDelete: jobs.onDelete,
    });
    jobs.attach(api);
    target = createServer((_req, res) => res.end("ok"));
    await new Promise<void>((r) => target.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(target.address() as AddressInfo).port}/`;
    const config = new KubeConfig();
    config.loadFromString(api.kubeconfig(NS));
    options = {
      kube: { config, namespace: NS, source: "stand-in" },
      image: imageRef("orchestrator", projectVersion()),
      workerCapacityRps: 100,
      maxWorkers: 4,
      // A container starts in seconds here.
      startAllowanceS: 15,
      pollMs: 250,
    };
  }, 1_800_000);
  afterAll(async () => {
    await jobs?.close();
    await api?.close();
    await new Promise<void>((r) => (target ? target.close(() => r()) : r()));
  });

  const containers = async () =>
    (await execa("podman", ["ps", "-a", "--format", "{{.Names}}"])).stdout
      .split("\n")
      .filter((n) => n.startsWith("load-"));

  it("runs each pod's load-worker in the image, as the Job says, and merges their reports", async () => {
    const report = await startJobWorkers({ url, connections: 4, rps: 200, durationS: 3 }, options).done;
    expect(report.workers).toHaveLength(2);
    for (const w of report.workers!) {
      expect(w.problem, w.problem).toBeUndefined();
      expect(w.requests).toBeGreaterThan(0);
    }
    expect(report.totals.requests).toBe(report.workers!.reduce((a, w) => a + w.requests, 0));
    // The containers ran what the Job said: its image, its user, read-only, no capabilities.
    expect(jobs.started).toHaveLength(2);
    expect(api.objects("jobs", NS)).toStrictEqual([]);
    await vi.waitFor(async () => expect(await containers()).toStrictEqual([]), {
      timeout: 30_000,
      interval: 250,
    });
  }, 180_000);

  it("deleting the Job stops the containers through tini; their reports are kept", async () => {
    const run = startJobWorkers({ url, connections: 2, rps: 100, durationS: 120 }, options);
    let seen = 0;
    run.onSecond(() => {
      seen += 1;
      if (seen === 2) run.stop();
    });
    const report = await run.done;
    expect(report.stopped_early).toBe(true);
    for (const w of report.workers!) {
      expect(w.problem, w.problem).toBeUndefined();
      expect(w.requests).toBeGreaterThan(0);
      expect(w.duration_s).toBeLessThan(120);
    }
    await vi.waitFor(async () => expect(await containers()).toStrictEqual([]), {
      timeout: 30_000,
      interval: 250,
    });
  }, 180_000);
});
