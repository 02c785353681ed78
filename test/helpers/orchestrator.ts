import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadCatalog } from "../../tiers/catalog.js";
import { compilePlan } from "../../tiers/plan/compile.js";
import { resolvePlanOptions, type RawOptions } from "../../tiers/plan/options.js";
import type { CyclePlan } from "../../tiers/plan/schema.js";
import { Agent, fetch, type RequestInit, type Response } from "undici";
import { OrchestratorClient } from "../../runners/cycle/orchestrator-client.js";
import {
  startOrchestratorProcess,
  type OrchestratorProcess,
} from "../../runners/local/orchestrator-process.js";
import { createRunCa, LOCAL_SERVER_NAMES, type RunCa } from "../../runners/local/run-ca.js";

/** A compiled plan for tests (built-in suite). */
export function testPlan(cli: RawOptions): CyclePlan {
  return compilePlan({ resolved: resolvePlanOptions({ defaults: {}, cli }), catalog: loadCatalog() });
}

export interface ServedEnvironment {
  readonly dir: string;
  readonly token: string;
  readonly process: OrchestratorProcess;
  /** PEM of the CA its certificate chains to (a CA made for this test, as a local run makes one). */
  readonly ca: string;
  /** An API client that verifies the orchestrator against `ca`, as the runner does. */
  client(): OrchestratorClient;
  /** `fetch` of a path of its API over HTTPS verified against `ca`. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  cleanup(): Promise<void>;
}

let testCa: Promise<RunCa> | undefined;
/** One CA for the test file's orchestrators (its key in memory only, as a run's). */
export function testRunCa(): Promise<RunCa> {
  testCa ??= createRunCa("test-tiers tests");
  return testCa;
}

/**
 * A real `orchestrator serve` process on a free loopback port, with its own directory and token,
 * serving HTTPS with a certificate for `names` (127.0.0.1 and localhost unless told) from the
 * test CA, its key 0600 in the environment's directory.
 */
export async function serveEnvironment(
  environment = "env-1",
  options: { readonly env?: NodeJS.ProcessEnv; readonly names?: readonly string[] } = {},
): Promise<ServedEnvironment> {
  const dir = mkdtempSync(join(tmpdir(), "tiers-orch-"));
  const token = randomBytes(24).toString("hex");
  const tokenFile = join(dir, "token");
  writeFileSync(tokenFile, token, { mode: 0o600 });
  const ca = await testRunCa();
  const issued = await ca.issueServer(`orchestrator ${environment}`, options.names ?? LOCAL_SERVER_NAMES);
  const certFile = join(dir, "tls.crt");
  const keyFile = join(dir, "tls.key");
  writeFileSync(certFile, issued.cert);
  writeFileSync(keyFile, issued.key, { mode: 0o600 });
  let proc: OrchestratorProcess;
  try {
    proc = await startOrchestratorProcess({
      dataDir: join(dir, "data"),
      environment,
      tokenFile,
      tls: { certFile, keyFile },
      ...(options.env ? { env: options.env } : {}),
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const agent = new Agent({ connect: { ca: ca.cert }, keepAliveTimeout: 1_000 });
  const clients: OrchestratorClient[] = [];
  return {
    dir,
    token,
    process: proc,
    ca: ca.cert,
    client() {
      const c = new OrchestratorClient(proc.url, token, { tls: { ca: ca.cert } });
      clients.push(c);
      return c;
    },
    fetch: (path, init = {}) => fetch(new URL(path, proc.url), { ...init, dispatcher: agent }),
    async cleanup() {
      await proc.stop();
      await Promise.all([agent.close(), ...clients.map((c) => c.close())]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
