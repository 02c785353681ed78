import { mkdir } from "node:fs/promises";
import type { S3Client } from "@aws-sdk/client-s3";
import type { DestinationStream } from "pino";
import { statSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { basename, dirname, resolve } from "node:path";
import { ConfigError } from "../../tiers/config/issues.js";
import type { CyclePlan, PlanEnvironment } from "../../tiers/plan/schema.js";
import { CYCLE_ID, CYCLE_ID_EXPECTED } from "../../tiers/schema/names.js";
import { formatKeyringLine } from "../bundle/keyring.js";
import { loadOrCreateSigningKey, type SigningKey } from "../bundle/keys.js";
import type { ApiService } from "./api/server.js";
import { CycleConflict } from "./api/server.js";
import type { ResolvedConfig } from "./config.js";
import { runCycle, type CycleEnd } from "./controller/cycle-controller.js";
import type { CycleProgress } from "./controller/progress.js";
import { exportBundle, type ExportedBundle } from "./export/export-bundle.js";
import type { BundleLocation } from "./export/upload-bundle.js";
import type { SweptChaos } from "./faults/chaos-mesh/client.js";
import { cycleLabelValue } from "./faults/chaos-mesh/resources.js";
import { startRuntime, type StartedRuntime } from "./local-runtime.js";
import { acceptPlan, readPlanJson } from "./plan-input.js";
import { EnvStore } from "./storage/env-store.js";
import { Telemetry } from "./telemetry/telemetry.js";
import { traceFile } from "./telemetry/tracing.js";

/** Refuses a resume the controller would refuse, before anything starts (HTTP 400 / exit 3). */
function checkResumable(store: EnvStore, cycleId: string, plan: CyclePlan): void {
  const c = store.getCycle(cycleId);
  const problem = !c
    ? `no cycle ${cycleId} in this environment`
    : c.plan_hash !== plan.hash
      ? `cycle ${cycleId} ran plan ${c.plan_hash.slice(0, 12)}, not ${plan.hash.slice(0, 12)}`
      : c.status !== "running" && c.status !== "interrupted"
        ? `cycle ${cycleId} is ${c.status}; only a running (killed) or interrupted cycle resumes`
        : undefined;
  if (problem) throw new ConfigError([{ file: "request", path: "resume", message: problem }]);
}

export interface EnvironmentOptions {
  /** Where the structured log goes (default: stderr). */
  readonly logDestination?: DestinationStream;
}

interface Running {
  readonly cycleId: string;
  readonly abort: AbortController;
  readonly done: Promise<CycleEnd>;
}

/**
 * One isolated environment's orchestrator: its config, its own SQLite store, its signing key, its
 * runtime (SUT, proxy), at most one running cycle, and what the HTTP API serves.
 */
export class Environment implements ApiService {
  private running: Running | undefined;
  private readonly progress = new Map<string, CycleProgress>();
  private lastEnd: CycleEnd | undefined;
  private s3: S3Client | undefined;
  /** Logs (pino), traces (OpenTelemetry) and /metrics (prom-client) of this environment. */
  readonly telemetry: Telemetry;

  private constructor(
    readonly config: ResolvedConfig,
    readonly store: EnvStore,
    readonly key: SigningKey,
    private readonly started: StartedRuntime,
    private readonly defaultPlan: CyclePlan | undefined,
    options: EnvironmentOptions,
  ) {
    this.telemetry = new Telemetry({
      environment: config.environment,
      traceDir: config.paths.traces,
      otlpEndpoint: config.otlp_endpoint,
      ...(options.logDestination ? { logDestination: options.logDestination } : {}),
      metricsState: {
        running: () => (this.running ? this.progress.get(this.running.cycleId) : undefined),
        lastEnd: () => this.lastEnd,
        cycleCount: () => this.store.listCycles().length,
      },
    });
  }

  /** Opens the environment's directory and store, its key (made on first use), and starts its runtime. */
  static async open(config: ResolvedConfig, options: EnvironmentOptions = {}): Promise<Environment> {
    // The plan is read and checked before anything is created on disk.
    let defaultPlan: CyclePlan | undefined;
    let cpuMillis = 1000;
    let memoryBytes: number | undefined;
    if (config.plan_file !== undefined) {
      const accepted = acceptPlan(readPlanJson(config.plan_file), config.environment, config.plan_file);
      defaultPlan = accepted.plan;
      cpuMillis = accepted.environment.resources.cpu_millis;
      memoryBytes = accepted.environment.resources.memory_bytes;
    }
    await mkdir(config.data_dir, { recursive: true, mode: 0o700 });
    const store = EnvStore.open(config.paths.db);
    try {
      const key = await loadOrCreateSigningKey(config.signing_key_file);
      // SUT events reach the environment once it exists (the SUT starts before it does).
      const holder: { env?: Environment } = {};
      const started = await startRuntime(
        config,
        cpuMillis,
        (kind, detail) => holder.env?.recordSutEvent(kind, detail),
        // Load workers' event-loop delays reach /metrics once the environment exists.
        {
          second: (pid, delay) => holder.env?.telemetry.metrics?.second(pid, delay),
          ended: (pid) => holder.env?.telemetry.metrics?.ended(pid),
        },
        memoryBytes,
      );
      holder.env = new Environment(config, store, key, started, defaultPlan, options);
      holder.env.recordSwept(started.sweptAtStart ?? []);
      return holder.env;
    } catch (error) {
      store.close();
      throw error;
    }
  }

  get runtime(): StartedRuntime["runtime"] {
    return this.started.runtime;
  }

  /** Each chaos resource the start-up sweep deleted, as an event of the cycle that made it. */
  private recordSwept(swept: readonly SweptChaos[]): void {
    if (swept.length === 0) return;
    const byLabel = new Map(this.store.listCycles().map((c) => [cycleLabelValue(c.cycle_id), c.cycle_id]));
    for (const s of swept) {
      const cycleId = s.cycle !== undefined ? byLabel.get(s.cycle) : undefined;
      if (cycleId === undefined) continue;
      this.store.appendEvent(cycleId, {
        ts_ms: Date.now(),
        phase: null,
        kind: "fault.swept",
        detail: { kind: s.kind, name: s.name, scenario: s.scenario ?? null, when: "orchestrator start" },
      });
    }
  }

  private recordSutEvent(kind: string, detail: Record<string, unknown>): void {
    const running = this.running;
    if (!running) return;
    const phase = this.progress.get(running.cycleId)?.current ?? null;
    try {
      this.store.appendEvent(running.cycleId, { ts_ms: Date.now(), phase: phase as never, kind, detail });
    } catch {
      // the cycle will report the storage failure itself
    }
  }

  /** Starts a cycle of `plan` (or the configured plan); `resume` continues an unfinished one. */
  start(plan: CyclePlan, environment: PlanEnvironment, resume?: string, newCycleId?: string): Running {
    if (this.running) throw new CycleConflict(this.running.cycleId);
    if (resume !== undefined) checkResumable(this.store, resume, plan);
    if (newCycleId !== undefined && this.store.getCycle(newCycleId)) {
      throw new ConfigError([
        {
          file: "request",
          path: "cycle_id",
          message: `cycle ${newCycleId} already exists in this environment`,
        },
      ]);
    }
    const abort = new AbortController();
    let cycleId = resume ?? "";
    const done = runCycle({
      store: this.store,
      plan,
      environment,
      runtime: this.runtime,
      signal: abort.signal,
      // TIERS_TELEMETRY=off runs the cycle without logs, traces and fault/test metrics: the
      // baseline of `npm run bench -- telemetry`.
      ...(process.env.TIERS_TELEMETRY === "off" ? {} : { telemetry: this.telemetry }),
      ...(resume !== undefined ? { resumeCycleId: resume } : {}),
      ...(newCycleId !== undefined ? { cycleId: newCycleId } : {}),
      onProgress: (p) => {
        cycleId = p.cycleId;
        this.progress.set(p.cycleId, p);
        p.onResult((status) => this.telemetry.metrics?.resultCommitted(status));
      },
    });
    // runCycle creates (or reopens) the cycle before its first await, so its id is known here.
    const running: Running = { cycleId, abort, done };
    this.running = running;
    void done.then(
      (end) => {
        this.lastEnd = end;
        if (this.running === running) this.running = undefined;
      },
      () => {
        if (this.running === running) this.running = undefined;
      },
    );
    return running;
  }

  // ApiService ---------------------------------------------------------------------------------

  health(): { ok: boolean; detail: Record<string, unknown> } {
    return {
      ok: true,
      detail: {
        environment: this.config.environment,
        running_cycle: this.running?.cycleId ?? null,
        sut: this.runtime.targetUrl,
      },
    };
  }

  trigger(body: unknown): { cycle_id: string; resumed: boolean } {
    const b = (body ?? {}) as { plan?: unknown; resume?: unknown; cycle_id?: unknown };
    if (b.cycle_id !== undefined && (typeof b.cycle_id !== "string" || !CYCLE_ID.test(b.cycle_id))) {
      throw new ConfigError([
        {
          file: "request body",
          path: "cycle_id",
          message: "not a valid cycle id",
          got: JSON.stringify(b.cycle_id),
          expected: CYCLE_ID_EXPECTED,
        },
      ]);
    }
    if (this.running) throw new CycleConflict(this.running.cycleId);
    const { plan, environment } =
      b.plan !== undefined
        ? acceptPlan(b.plan, this.config.environment, "request body")
        : this.defaultPlan
          ? acceptPlan(this.defaultPlan, this.config.environment, this.config.plan_file ?? "plan")
          : (() => {
              throw new ConfigError([
                {
                  file: "request body",
                  path: "plan",
                  message: "no plan given and none configured",
                  expected: "a CyclePlan",
                },
              ]);
            })();
    let resume: string | undefined;
    if (typeof b.resume === "string") resume = b.resume;
    else if (b.resume === true) resume = this.store.unfinishedCycles().at(-1)?.cycle_id;
    const running = this.start(plan, environment, resume, resume === undefined ? b.cycle_id : undefined);
    return { cycle_id: running.cycleId, resumed: resume !== undefined };
  }

  cycles(): readonly unknown[] {
    return this.store.listCycles().map((c) => this.describe(c.cycle_id));
  }

  cycle(id: string): unknown {
    return this.store.getCycle(id) ? this.describe(id) : undefined;
  }

  private describe(id: string): Record<string, unknown> {
    const live = this.progress.get(id);
    if (live) return live.toJSON();
    const c = this.store.getCycle(id)!;
    return {
      cycle_id: c.cycle_id,
      environment: c.environment,
      tier: c.plan.tier.name,
      plan_hash: c.plan_hash,
      state: c.status,
      verdict: c.verdict,
      reason: c.reason,
      started_at: c.started_at,
      ended_at: c.ended_at,
      phases: this.store
        .phases(id)
        .map((p) => ({ name: p.name, status: p.status, gate: p.summary?.gate.verdict ?? null })),
    };
  }

  /**
   * The API's export: the cycle's bundle, uploaded on EKS to the environment's S3 prefix; the
   * answer names the bundle's file, not where it lies on this server.
   */
  async exportBundle(cycleId: string): Promise<ExportedBundle & { location?: BundleLocation }> {
    const exported = await this.exportToVolume(cycleId);
    const answer = { ...exported, file: basename(exported.file) };
    const store = this.config.bundle_store;
    if (store.kind !== "s3") return answer;
    // Loaded on first use: the AWS SDK is large, and only environments with a bucket need it.
    const { environmentS3Client, uploadBundle } = await import("./export/upload-bundle.js");
    this.s3 ??= environmentS3Client(store);
    return { ...answer, location: await uploadBundle(this.s3, store, exported) };
  }

  private async exportToVolume(cycleId: string): Promise<ExportedBundle> {
    return exportBundle({
      store: this.store,
      cycleId,
      key: this.key,
      rawDir: this.config.paths.raw,
      outDir: this.config.paths.bundles,
      config: {
        sut: this.config.sut,
        region_latency_ms: this.config.region_latency_ms,
        iperf3_server: this.config.iperf3_server ?? null,
      },
      traceFile: traceFile(this.config.paths.traces, cycleId),
    });
  }

  /** This environment's own absolute paths, which the API replaces in every answer. */
  serverPaths(): { path: string; as: string }[] {
    const c = this.config;
    return [
      { path: c.data_dir, as: "<data-dir>" },
      { path: dirname(c.signing_key_file), as: "<key-dir>" },
      ...(c.plan_file !== undefined ? [{ path: dirname(resolve(c.plan_file)), as: "<plan-dir>" }] : []),
      ...(c.api_token_file !== undefined
        ? [{ path: dirname(resolve(c.api_token_file)), as: "<token-dir>" }]
        : []),
      { path: tmpdir(), as: "<tmp>" },
      { path: homedir(), as: "<home>" },
      { path: process.cwd(), as: "<cwd>" },
    ].filter((p) => p.path.length > 1);
  }

  bundles(): readonly unknown[] {
    return this.store.bundles().map((b) => ({ ...b, file: basename(b.file) }));
  }

  bundleFile(bundleId: string): { path: string; size: number; name: string } | undefined {
    const b = this.store.bundles().find((x) => x.bundle_id === bundleId);
    if (!b) return undefined;
    try {
      return { path: b.file, size: statSync(b.file).size, name: basename(b.file) };
    } catch {
      return undefined;
    }
  }

  /** The environment's public key as a keyring line, for the centre to trust (`GET /v1/key`). */
  publicKey(): { key_id: string; keyring_line: string } {
    return {
      key_id: this.key.keyId,
      keyring_line: formatKeyringLine(
        this.config.environment,
        this.key.publicRaw,
        `${this.config.environment} signing key`,
      ),
    };
  }

  metrics(): Promise<string> {
    return this.telemetry.metrics!.render();
  }

  // Lifecycle ----------------------------------------------------------------------------------

  /** The running cycle's end (undefined when none runs). */
  get runningCycle(): Promise<CycleEnd> | undefined {
    return this.running?.done;
  }

  /** Interrupts the running cycle (faults undone, load stopped, state kept for --resume), stops the runtime. */
  async close(reason = "the orchestrator is stopping"): Promise<void> {
    const running = this.running;
    if (running) {
      running.abort.abort(new Error(reason));
      await running.done.catch(() => undefined);
    }
    await this.started.stop();
    await this.telemetry.shutdown();
    this.s3?.destroy();
    this.store.close();
  }
}
