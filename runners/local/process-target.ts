import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import type { ReachedEnvironment, RunTarget, TargetContext } from "../cycle/target.js";
import { provisionLocalEnvironments, type LocalEnvironment } from "./environments.js";
import type { SpawnedProcess } from "./orchestrator-process.js";
import type { Monitoring } from "../../tiers/schema/catalog.js";
import type { CycleReport } from "../../workloads/central/analysis/report-model.js";
import { LocalMonitoring } from "./monitoring.js";
import { portIsFree } from "./preflight.js";
import { createRunCa } from "./run-ca.js";

export interface ProcessTargetOptions {
  /** Put each environment's region latency (topology) in its fault proxy. */
  readonly regionLatency: boolean;
  /** Keep the environment directories after the run. */
  readonly keep: boolean;
  /** Environment i listens on 127.0.0.1:portBase+i; unset: free ports. */
  readonly portBase?: number;
  /** Run Debian's Prometheus and Alertmanager over the environments (`--monitoring`). */
  readonly monitoring?: Monitoring;
  /** Load worker processes per environment (the orchestrator config's `load_workers`). */
  readonly loadWorkers?: number;
}

/** Stops every process the run spawned (the whole group each), by force when `force` aborts. */
async function stopAll(spawned: readonly SpawnedProcess[], force: AbortSignal): Promise<void> {
  const killAll = () => spawned.forEach((p) => p.kill());
  if (force.aborted) killAll();
  force.addEventListener("abort", killAll, { once: true });
  try {
    await Promise.all(spawned.map((p) => p.stop(10_000)));
  } finally {
    force.removeEventListener("abort", killAll);
  }
}

/**
 * The local target with processes (the default of `tiers local`): each isolated environment is a
 * directory under `<run>/environments/` and an orchestrator process group on its own loopback port
 * (its SUT, proxy and tools in the group). Every orchestrator serves HTTPS with a certificate from
 * a CA made for the run (its key only in memory; the servers' keys in a private temporary
 * directory, 0700, removed at teardown whatever else is kept), and the runner verifies each against
 * that CA. Teardown stops every group, checks the ports are free, removes the TLS directory, and
 * removes the environment directories unless kept.
 */
export class LocalProcessTarget implements RunTarget {
  readonly name = "local processes";
  private readonly spawned: SpawnedProcess[] = [];
  private environments: LocalEnvironment[] = [];
  private envRoot: string | undefined;
  private monitor: LocalMonitoring | undefined;
  private fired: NonNullable<CycleReport["monitoring"]> | undefined;
  private tlsDir: string | undefined;

  constructor(private readonly options: ProcessTargetOptions) {}

  readonly monitoring = (): NonNullable<CycleReport["monitoring"]> | undefined => this.fired;

  async provision(context: TargetContext): Promise<readonly ReachedEnvironment[]> {
    const envRoot = join(context.runDir, "environments");
    this.envRoot = envRoot;
    const { regionLatency } = this.options;
    this.tlsDir = await mkdtemp(join(tmpdir(), "tiers-tls-"));
    const ca = await createRunCa(`tiers local run ${context.cycleId}`);
    const environments = await provisionLocalEnvironments({
      plan: context.plan,
      root: envRoot,
      logDir: join(context.runDir, "logs"),
      regionLatency,
      ...(this.options.portBase !== undefined ? { portBase: this.options.portBase } : {}),
      ...(this.options.loadWorkers !== undefined ? { loadWorkers: this.options.loadWorkers } : {}),
      signal: context.signal,
      onSpawn: (p) => this.spawned.push(p),
      // Recorded as each one starts: when another fails to, teardown checks these ports too.
      onStarted: (e) => this.environments.push(e),
      chooseSutPorts: this.options.monitoring !== undefined,
      tls: { ca, dir: this.tlsDir },
    });
    this.environments = environments;
    if (this.options.monitoring) {
      // Recorded before it starts, so teardown stops it even if it never became ready.
      this.monitor = new LocalMonitoring({
        monitoring: this.options.monitoring,
        timeScale: context.plan.options.time_scale,
        signal: context.signal,
        orchestratorCa: ca.cert,
        environments: environments.map((e) => ({
          id: e.id,
          orchestrator: `127.0.0.1:${e.process.port}`,
          sut: `127.0.0.1:${e.sutPort!}`,
        })),
      });
      await this.monitor.start();
      context.say(this.monitor.describe());
    }
    return environments.map((e) => ({
      ...e,
      description:
        `${e.id}: orchestrator pid ${e.process.pid} on ${e.process.url}, region ${e.region}` +
        `${regionLatency ? ` (simulated latency ${e.regionLatencyMs} ms)` : ""}, directory ${relative(process.cwd(), e.dir)}`,
    }));
  }

  async teardown(force: AbortSignal, say: (line: string) => void): Promise<void> {
    if (this.monitor) {
      // Ask Prometheus what fired before anything stops, then stop it first.
      try {
        if (this.monitor.prometheusUrl && !force.aborted)
          this.fired = {
            source: `Prometheus ${this.monitor.prometheusUrl}`,
            alerts: await this.monitor.firedAlerts(),
            dashboard_queries: await this.monitor.emptyDashboardQueries(),
          };
      } catch (error) {
        say(`warning: could not read the fired alerts from Prometheus: ${(error as Error).message}`);
      }
      await this.monitor.stop(force.aborted);
      say("stopped: Prometheus and Alertmanager, their directory removed");
    }
    const spawned = this.spawned;
    if (spawned.length > 0) {
      const ports = this.environments.map((e) => e.process.port);
      say(
        `tearing down: stopping ${spawned.length} orchestrator process group${spawned.length === 1 ? "" : "s"}`,
      );
      await stopAll(spawned, force);
      const busy: number[] = [];
      for (const port of ports) if (!(await portIsFree(port))) busy.push(port);
      say(
        busy.length === 0
          ? `stopped: every process of the run has exited, ${ports.length} port${ports.length === 1 ? "" : "s"} free`
          : `warning: ports still in use after teardown: ${busy.join(", ")}`,
      );
    }
    for (const e of this.environments) await e.client.close();
    if (this.tlsDir !== undefined) await rm(this.tlsDir, { recursive: true, force: true });
    if (this.envRoot === undefined) return;
    if (!this.options.keep) await rm(this.envRoot, { recursive: true, force: true });
    else say(`kept the environment directories in ${relative(process.cwd(), this.envRoot)}`);
  }
}
