import type { Command } from "commander";
import { ConfigError } from "../../../tiers/config/issues.js";
import { safeJson } from "../../../tiers/safe-text.js";
import { CYCLE_ID, CYCLE_ID_EXPECTED } from "../../../tiers/schema/names.js";
import { loadOrchestratorConfig, type ResolvedConfig } from "../config.js";
import { acceptPlan, readPlanJson } from "../plan-input.js";

export interface ConfigFlags {
  config?: string;
  dataDir?: string;
  env?: string;
}

/** `--config`, `--data-dir`, `--env`: where every command finds its environment. */
export function withConfigFlags(cmd: Command): Command {
  return cmd
    .option("--config <file>", "orchestrator config file (JSON or YAML); TIERS_* variables override it")
    .option("--data-dir <dir>", "the environment's data directory (TIERS_DATA_DIR)")
    .option("--env <id>", "the plan environment this is (TIERS_ENVIRONMENT)");
}

export function configFrom(flags: ConfigFlags, requireToken = false): ResolvedConfig {
  return loadOrchestratorConfig(
    flags.config,
    process.env,
    { data_dir: flags.dataDir, environment: flags.env },
    requireToken,
  );
}

/** A `--cycle-id` flag: the grammar the API enforces for a trigger's `cycle_id`. */
export function cycleIdFlag(id: string | undefined): string | undefined {
  if (id === undefined || CYCLE_ID.test(id)) return id;
  throw new ConfigError([
    {
      file: "command line",
      path: "--cycle-id",
      message: "not a valid cycle id",
      got: JSON.stringify(id),
      expected: CYCLE_ID_EXPECTED,
    },
  ]);
}

/** Reads and checks a plan file for this environment. */
export function readPlan(file: string, environmentId: string): Promise<ReturnType<typeof acceptPlan>> {
  return Promise.resolve(acceptPlan(readPlanJson(file), environmentId, file));
}

/** One JSON object per line on stdout: what the runner and workflow steps read (no raw control or bidi characters). */
export function emitJson(value: unknown): void {
  process.stdout.write(`${safeJson(value)}\n`);
}
