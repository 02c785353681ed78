import { randomBytes } from "node:crypto";
import { createWriteStream, type WriteStream } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { createServer, type AddressInfo } from "node:net";
import { join } from "node:path";
import { stringify } from "yaml";
import { ExitCode, TiersError } from "../../tiers/errors.js";
import { ORCHESTRATOR_ENV_VARIABLES } from "../../workloads/orchestrator/config.js";
import type { CyclePlan, PlanEnvironment } from "../../tiers/plan/schema.js";
import type { EnvironmentHandle } from "../cycle/drive.js";
import { OrchestratorClient } from "../cycle/orchestrator-client.js";
import { LOCAL_SERVER_NAMES, type RunCa } from "./run-ca.js";
import {
  startOrchestratorProcess,
  type OrchestratorProcess,
  type SpawnedProcess,
} from "./orchestrator-process.js";

/** One isolated environment of the local target: its directory, its process, its API. */
export interface LocalEnvironment extends EnvironmentHandle {
  readonly dir: string;
  readonly process: OrchestratorProcess;
  readonly regionLatencyMs: number;
  /** The environment's public key as a keyring line, read through its API after start. */
  readonly keyringLine: string;
  /** The SUT's port when the runner chose it (`--monitoring` scrapes it); undefined otherwise. */
  readonly sutPort?: number;
}

export interface ProvisionOptions {
  readonly plan: CyclePlan;
  /** Parent of the environment directories (`<run>/environments`). */
  readonly root: string;
  /** Where each orchestrator's output goes (`<run>/logs/<env>.log`). */
  readonly logDir: string;
  /** Simulate each environment's region by the topology's one-way latency for its role. */
  readonly regionLatency: boolean;
  /** First port: environment i listens on base + i; unset: free ports chosen by the system. */
  readonly portBase?: number;
  /** `load_workers` of each orchestrator's config; unset: its default. */
  readonly loadWorkers?: number;
  readonly signal: AbortSignal;
  /** Called with each process the moment it is spawned, before it listens, so teardown finds it. */
  readonly onSpawn: (child: SpawnedProcess) => void;
  /**
   * Called with each environment once it listens and its key is read, before the others have
   * started: when another fails, teardown still checks its port and closes its client.
   */
  readonly onStarted?: (environment: LocalEnvironment) => void;
  /** Choose each SUT's port (a free loopback port) instead of letting its orchestrator pick one. */
  readonly chooseSutPorts?: boolean;
  /**
   * The run's CA and its private directory (0700): each orchestrator gets a certificate for
   * 127.0.0.1 and localhost from the CA, its key written there (0600), and is verified against it.
   */
  readonly tls: { readonly ca: RunCa; readonly dir: string };
}

/** The one-way latency the topology gives the environment's region role (0 without `--region-latency`). */
export function regionLatencyOf(plan: CyclePlan, env: PlanEnvironment, enabled: boolean): number {
  if (!enabled) return 0;
  return plan.regions.find((r) => r.location === env.region)?.simulated_latency_ms ?? 0;
}

/**
 * What an orchestrator of the local target inherits from the runner: everything but the variables
 * that would override its own config file (the environment wins over the file), so one user's
 * shell cannot point every environment at the same data directory, token or SUT.
 */
export function childEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env };
  for (const k of ORCHESTRATOR_ENV_VARIABLES) delete out[k];
  return out;
}

/**
 * An environment's server certificate from the run's CA, written to the run's private TLS
 * directory: the key 0600 (the directory is 0700 and removed at teardown), the chain beside it.
 */
async function issueEnvironmentCertificate(
  tls: ProvisionOptions["tls"],
  env: PlanEnvironment,
): Promise<{ certFile: string; keyFile: string }> {
  const issued = await tls.ca.issueServer(`orchestrator ${env.id}`, LOCAL_SERVER_NAMES);
  const certFile = join(tls.dir, `${env.slug}.crt`);
  const keyFile = join(tls.dir, `${env.slug}.key`);
  await writeFile(keyFile, issued.key, { mode: 0o600, flag: "wx" });
  await writeFile(certFile, issued.cert, { mode: 0o644, flag: "wx" });
  return { certFile, keyFile };
}

/** Writes an environment's directory: its token (0600), its plan and its orchestrator config. */
async function writeEnvironmentDir(
  dir: string,
  plan: CyclePlan,
  env: PlanEnvironment,
  listen: string,
  regionLatencyMs: number,
  loadWorkers: number | undefined,
  tls: { readonly certFile: string; readonly keyFile: string },
  sutPort = 0,
): Promise<{ configFile: string; tokenFile: string; token: string }> {
  await mkdir(join(dir, "data"), { recursive: true, mode: 0o700 });
  const token = randomBytes(32).toString("base64url");
  const tokenFile = join(dir, "api-token");
  await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
  const planFile = join(dir, "plan.json");
  await writeFile(planFile, `${JSON.stringify(plan, null, 2)}\n`);
  const configFile = join(dir, "orchestrator.yaml");
  await writeFile(
    configFile,
    `# Written by tiers local for environment ${env.id}; orchestrator serve --config reads it.\n${stringify({
      environment: env.id,
      data_dir: join(dir, "data"),
      listen,
      api_token_file: tokenFile,
      plan_file: planFile,
      region_latency_ms: regionLatencyMs,
      ...(loadWorkers !== undefined ? { load_workers: loadWorkers } : {}),
      tls_cert_file: tls.certFile,
      tls_key_file: tls.keyFile,
      sut: { mode: "local", port: sutPort },
    })}`,
  );
  return { configFile, tokenFile, token };
}

/** A port the system says is free on loopback now. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function lineWriter(stream: WriteStream, env: string) {
  return (s: "stdout" | "stderr", line: string) => {
    stream.write(`${new Date().toISOString()} ${env} ${s} ${line}\n`);
  };
}

/**
 * Creates every environment of the plan as its own directory (config, token, plan, SQLite, key)
 * with its own orchestrator process on its own loopback port; each orchestrator starts its own
 * sample SUT, so environments share nothing. Starts them in parallel; any failure stops the
 * start-up (the caller's teardown stops those already started).
 */
export async function provisionLocalEnvironments(options: ProvisionOptions): Promise<LocalEnvironment[]> {
  const { plan } = options;
  await mkdir(options.logDir, { recursive: true });
  const started = await Promise.allSettled(
    plan.environments.map(async (env, i): Promise<LocalEnvironment> => {
      const dir = join(options.root, env.slug);
      const latency = regionLatencyOf(plan, env, options.regionLatency);
      const listen = `127.0.0.1:${options.portBase === undefined ? 0 : options.portBase + i}`;
      const sutPort = options.chooseSutPorts ? await freeLoopbackPort() : undefined;
      const tlsFiles = await issueEnvironmentCertificate(options.tls, env);
      const { configFile, tokenFile, token } = await writeEnvironmentDir(
        dir,
        plan,
        env,
        listen,
        latency,
        options.loadWorkers,
        tlsFiles,
        sutPort,
      );
      const log = createWriteStream(join(options.logDir, `${env.slug}.log`), { flags: "a" });
      let proc: OrchestratorProcess;
      try {
        proc = await startOrchestratorProcess({
          dataDir: join(dir, "data"),
          environment: env.id,
          tokenFile,
          configFile,
          listen,
          regionLatencyMs: latency,
          onLine: lineWriter(log, env.id),
          env: childEnvironment(process.env),
          signal: options.signal,
          onSpawn: options.onSpawn,
        });
      } catch (error) {
        log.end();
        throw error;
      }
      void proc.exited.then(() => log.end());
      const client = new OrchestratorClient(proc.url, token, { tls: { ca: options.tls.ca.cert } });
      const lost = proc.exited.then(({ code, signal }) => {
        const tail = proc.stderrTail.slice(-3).join(" | ");
        return `orchestrator process ${proc.pid} exited (${signal ?? `code ${code}`})${tail ? `: ${tail}` : ""}`;
      });
      const { keyring_line } = await client.publicKey();
      const local: LocalEnvironment = {
        id: env.id,
        region: env.region,
        client,
        lost,
        dir,
        process: proc,
        regionLatencyMs: latency,
        keyringLine: keyring_line,
        ...(sutPort !== undefined ? { sutPort } : {}),
      };
      options.onStarted?.(local);
      return local;
    }),
  );
  const failed = started.filter((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed.length > 0) {
    const errors = failed.map((f) => f.reason as Error);
    const first = errors.find((e): e is TiersError => e instanceof TiersError);
    throw new TiersError(
      first?.exitCode ?? ExitCode.Infrastructure,
      `${failed.length} of ${plan.environments.length} environments did not start`,
      { details: errors.map((e) => e.message) },
    );
  }
  return started.map((s) => (s as PromiseFulfilledResult<LocalEnvironment>).value);
}
