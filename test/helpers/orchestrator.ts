import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadCatalog } from "../../tiers/catalog.js";
import { compilePlan } from "../../tiers/plan/compile.js";
import { resolvePlanOptions, type RawOptions } from "../../tiers/plan/options.js";
import type { CyclePlan } from "../../tiers/plan/schema.js";
import {
  startOrchestratorProcess,
  type OrchestratorProcess,
} from "../../runners/local/orchestrator-process.js";

/** A compiled plan for tests (built-in suite). */
export function testPlan(cli: RawOptions): CyclePlan {
  return compilePlan({ resolved: resolvePlanOptions({ defaults: {}, cli }), catalog: loadCatalog() });
}

export interface ServedEnvironment {
  readonly dir: string;
  readonly token: string;
  readonly process: OrchestratorProcess;
  cleanup(): Promise<void>;
}

/** A real `orchestrator serve` process on a free loopback port, with its own directory and token. */
export async function serveEnvironment(
  environment = "env-1",
  options: { readonly env?: NodeJS.ProcessEnv } = {},
): Promise<ServedEnvironment> {
  const dir = mkdtempSync(join(tmpdir(), "tiers-orch-"));
  const token = randomBytes(24).toString("hex");
  const tokenFile = join(dir, "token");
  writeFileSync(tokenFile, token, { mode: 0o600 });
  const proc = await startOrchestratorProcess({
    dataDir: join(dir, "data"),
    environment,
    tokenFile,
    ...(options.env ? { env: options.env } : {}),
  });
  return {
    dir,
    token,
    process: proc,
    async cleanup() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
