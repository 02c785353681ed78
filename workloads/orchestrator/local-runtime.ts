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

export interface StartedRuntime {
  readonly runtime: EnvironmentRuntime;
  /** Stops what the runtime started (SUT, proxy). Idempotent. */
  stop(): Promise<void>;
  /** Chaos resources a previous run of the orchestrator left behind, deleted at start. */
  readonly sweptAtStart?: readonly SweptChaos[];
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
): Promise<StartedRuntime> {
  await mkdir(config.paths.raw, { recursive: true });
  await mkdir(config.paths.scratch, { recursive: true });
  const iperf3 = config.iperf3_server ? { iperf3Server: parseHostPort(config.iperf3_server) } : {};
  const cores = Math.max(0.001, cpuMillis / 1000);
  // Load in worker processes (`tiers local`'s default, one), or in this process with load_workers:
  // 0 (a bare orchestrator's default). Either way /metrics has the load generator's event-loop lag:
  // the workers' through `workerLoops`, this process's own from prom-client's collectors.
  const load =
    config.load_workers > 0
      ? {
          load: localWorkersEngine(config.load_workers, workerLoops ? { eventLoop: workerLoops } : {}),
        }
      : {};
  if (config.sut.mode === "external") {
    const url = config.sut.url;
    if (config.faults === "chaos-mesh") {
      const kube = loadKubeContext();
      if (!kube)
        throw new TiersError(
          ExitCode.InvalidConfig,
          "faults: chaos-mesh (TIERS_FAULTS) needs the Kubernetes API: run in a pod with its service account token, or set TIERS_KUBECONFIG",
        );
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
          cluster,
        },
        stop: () => Promise.resolve(),
        sweptAtStart,
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
