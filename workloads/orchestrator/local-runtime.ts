import { mkdir } from "node:fs/promises";
import { SutSupervisor } from "../sut/supervisor.js";
import type { OrchestratorConfig, ResolvedConfig } from "./config.js";
import type { EnvironmentRuntime } from "./controller/runtime.js";
import { ExitCode, TiersError } from "../../tiers/errors.js";
import { chaosMeshFaults } from "./faults/chaos-mesh/injector.js";
import type { SweptChaos } from "./faults/chaos-mesh/client.js";
import { prepareFakeClock } from "./faults/clock-skew.js";
import { loadKubeContext } from "./kube/context.js";
import { FaultProxy } from "./faults/network-proxy.js";
import { localWorkersEngine, type WorkerLoopSink } from "./load/local-workers.js";
import { jobWorkersEngine, sweepLoadJobs } from "./load/job-workers.js";
import type { LoadEngine } from "./load/engine.js";
import type { KubeContext } from "./kube/context.js";
import { describeKubeError } from "./kube/context.js";

export interface StartedRuntime {
  readonly runtime: EnvironmentRuntime;
  /** Stops what the runtime started (SUT, proxy). Idempotent. */
  stop(): Promise<void>;
  /** Chaos resources a previous run of the orchestrator left behind, deleted at start. */
  readonly sweptAtStart?: readonly SweptChaos[];
  /** Load Jobs a previous run left behind, deleted at start (their names). */
  readonly sweptLoadJobs?: readonly string[];
}

function parseHostPort(text: string): { host: string; port: number } {
  const i = text.lastIndexOf(":");
  return { host: text.slice(0, i), port: Number(text.slice(i + 1)) };
}

/**
 * The environment's runtime. Local SUT: the orchestrator runs the sample SUT under its supervisor
 * (the local stand-in for the SUT's Deployment: killed, it comes back) with libfaketime preloaded
 * when available, and puts the fault proxy in front of it (partitions, and the simulated region's
 * latency). External SUT (the cluster target): the Service's URL; faults are Chaos Mesh's there.
 */
export async function startRuntime(
  config: ResolvedConfig,
  cpuMillis: number,
  onSutEvent: (kind: string, detail: Record<string, unknown>) => void,
  workerLoops?: WorkerLoopSink,
  /** The environment's memory: with its cores, the local SUT's share (its session cache's size). */
  memoryBytes?: number,
): Promise<StartedRuntime> {
  await mkdir(config.paths.raw, { recursive: true });
  await mkdir(config.paths.scratch, { recursive: true });
  const iperf3 = config.iperf3_server ? { iperf3Server: parseHostPort(config.iperf3_server) } : {};
  const cores = Math.max(0.001, cpuMillis / 1000);
  // Load in worker processes (`tiers local`'s default, one), or in this process with load_workers:
  // 0 (a bare orchestrator's default). Either way /metrics has the load generator's event-loop lag:
  // the workers' through `workerLoops`, this process's own from prom-client's collectors.
  let load: { load?: LoadEngine } =
    config.load_workers > 0
      ? {
          load: localWorkersEngine(config.load_workers, workerLoops ? { eventLoop: workerLoops } : {}),
        }
      : {};
  if (config.load_job_image !== undefined && config.sut.mode !== "external")
    throw new TiersError(
      ExitCode.InvalidConfig,
      "load_job_image (TIERS_LOAD_JOB_IMAGE): load Jobs need an external SUT (TIERS_SUT_URL) their pods can reach; a local SUT listens on this machine's loopback",
    );
  if (config.sut.mode === "external") {
    const url = config.sut.url;
    const needKube = (what: string): KubeContext => {
      const kube = loadKubeContext();
      if (!kube)
        throw new TiersError(
          ExitCode.InvalidConfig,
          `${what} needs the Kubernetes API: run in a pod with its service account token, or set TIERS_KUBECONFIG`,
        );
      return kube;
    };
    let sweptLoadJobs: string[] | undefined;
    if (config.load_job_image !== undefined) {
      const kube = needKube("load_job_image (TIERS_LOAD_JOB_IMAGE)");
      // A restarted orchestrator's first act: no load Job of a run it no longer follows goes on.
      try {
        sweptLoadJobs = await sweepLoadJobs(kube);
      } catch (error) {
        throw new TiersError(
          ExitCode.Infrastructure,
          `load Jobs: the leftover Jobs in ${kube.namespace} cannot be swept (${describeKubeError(error).line})`,
        );
      }
      load = {
        load: jobWorkersEngine({
          kube,
          image: config.load_job_image,
          maxWorkers: config.load_job_max_workers,
          workerCapacityRps: config.load_worker_capacity_rps,
          startAllowanceS: config.load_job_start_s,
          serviceAccountName: config.load_worker_service_account,
          labels: { "test-tiers/environment": config.environment },
          onEvent: onSutEvent,
          ...(workerLoops ? { eventLoop: workerLoops } : {}),
        }),
      };
    }
    const swept = sweptLoadJobs !== undefined ? { sweptLoadJobs } : {};
    if (config.faults === "chaos-mesh") {
      const kube = needKube("faults: chaos-mesh (TIERS_FAULTS)");
      const cluster = chaosMeshFaults(kube);
      // A restarted orchestrator's first act: no chaos resource of a cycle it no longer runs stays.
      const sweptAtStart = await cluster.sweep();
      return {
        runtime: {
          targetUrl: url,
          healthUrl: new URL("/healthz", url).toString(),
          rawDir: config.paths.raw,
          scratchDir: config.paths.scratch,
          ...iperf3,
          sampleRoots: () => [],
          sutMetricsUrl: new URL("/metrics", url).toString(),
          cores,
          ...load,
          cluster,
        },
        stop: () => Promise.resolve(),
        sweptAtStart,
        ...swept,
      };
    }
    return {
      runtime: {
        targetUrl: url,
        healthUrl: new URL("/healthz", url).toString(),
        rawDir: config.paths.raw,
        scratchDir: config.paths.scratch,
        ...iperf3,
        sampleRoots: () => [],
        sutMetricsUrl: new URL("/metrics", url).toString(),
        cores,
        ...load,
        faultsUnavailable:
          "the SUT is external: on the cluster target Chaos Mesh injects the chaos phase's faults",
      },
      stop: () => Promise.resolve(),
      ...swept,
    };
  }
  const sut: Extract<OrchestratorConfig["sut"], { mode: "local" }> = config.sut;
  await mkdir(config.paths.sutStorage, { recursive: true });
  const clock = sut.fake_clock ? await prepareFakeClock(config.data_dir) : undefined;
  const supervisor = new SutSupervisor({
    port: sut.port,
    storageDir: config.paths.sutStorage,
    work: { cpuMs: sut.cpu_ms, delayMs: sut.delay_ms, errorRate: sut.error_rate },
    ...(clock ? { clock } : {}),
    ...(memoryBytes !== undefined ? { share: { memoryBytes, cores } } : {}),
    onEvent: onSutEvent,
  });
  await supervisor.start();
  const sutPort = Number(new URL(supervisor.url).port);
  let proxy: FaultProxy;
  try {
    proxy = await FaultProxy.start({
      target: { host: supervisor.host, port: sutPort },
      conditions: { latencyMs: config.region_latency_ms },
    });
  } catch (error) {
    await supervisor.stop();
    throw error;
  }
  let stopped = false;
  return {
    runtime: {
      targetUrl: proxy.url,
      healthUrl: `${supervisor.url}/healthz`,
      rawDir: config.paths.raw,
      scratchDir: config.paths.scratch,
      ...iperf3,
      sampleRoots: () => [supervisor.pid],
      cores,
      ...load,
      faults: {
        sut: supervisor,
        sutUrl: supervisor.url,
        proxy,
        storageDir: config.paths.sutStorage,
        ...(clock ? { clock } : {}),
      },
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await proxy.close().catch(() => undefined);
      await supervisor.stop();
    },
  };
}
