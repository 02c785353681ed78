import type { Command } from "commander";
import { ConfigError } from "../../../tiers/config/issues.js";
import { MAX_TTL_HOURS, DURATION_EXPECTED, parseDuration } from "../../cluster/stack-names.js";
import { runInterruptible } from "../interruptible.js";
import { runCommand } from "../run-command.js";

interface ReapFlags {
  readonly dryRun?: boolean;
  readonly olderThan?: string;
  readonly orphans?: boolean;
  readonly stacksOnly?: boolean;
  readonly regions?: string;
  readonly projectDir?: string;
}

/** The regions searched for orphans by default: the topology's (seed 001: us-east-1, eu-west-1, ap-southeast-1). */
const DEFAULT_ORPHAN_REGIONS = "us-east-1,eu-west-1,ap-southeast-1";

/**
 * `tiers reap`: what escaped a run's teardown. Destroys and removes this project's ephemeral stacks
 * whose expiry has passed (or older than --older-than), then lists AWS resources tagged with a
 * past `test-tiers:expires-at` whose stack no longer exists, and deletes them with --orphans.
 */
export function registerReapCommand(program: Command): void {
  program
    .command("reap")
    .description(
      "destroy expired ephemeral stacks, and find (--orphans: delete) tagged AWS resources whose stack is gone",
    )
    .option("--dry-run", "say what would be destroyed or deleted, change nothing")
    .option("--older-than <duration>", "also reap ephemeral stacks created longer ago than this (e.g. 6h)")
    .option("--orphans", "delete the orphaned AWS resources found (Cloud Control API), not only list them")
    .option("--stacks-only", "do not look for orphaned AWS resources (no AWS credentials needed)")
    .option("--regions <list>", `regions searched for orphans (default: ${DEFAULT_ORPHAN_REGIONS})`)
    .option("--project-dir <dir>", "the Pulumi project (default: this repository; TIERS_PROJECT_DIR)")
    .addHelpText(
      "after",
      `
Exit codes: 0 nothing left to reap (or --dry-run); 3 a bad option; 6 the backend or AWS could not be
listed; 9 a stack or resource could not be removed (named in the output).`,
    )
    .action((flags: ReapFlags) =>
      runCommand(async () => {
        let olderThanMs: number | undefined;
        if (flags.olderThan !== undefined) {
          olderThanMs = parseDuration(flags.olderThan);
          if (olderThanMs === undefined)
            throw new ConfigError([
              {
                file: "command line",
                path: "--older-than",
                message: "not a duration",
                got: JSON.stringify(flags.olderThan),
                expected: DURATION_EXPECTED,
              },
            ]);
        }
        return runInterruptible(
          {
            first: "stopping after the current destroy",
            second: "interrupting the destroy",
            interrupted: "interrupted: tiers reap stopped",
          },
          async (control) => {
            const { runReap } = await import("../../cluster/run-reap.js");
            return runReap(
              {
                dryRun: flags.dryRun ?? false,
                ...(olderThanMs !== undefined ? { olderThanMs } : {}),
                maxLifetimeMs: MAX_TTL_HOURS * 3_600_000,
                orphans: flags.stacksOnly ? "skip" : flags.orphans ? "delete" : "list",
                regions: (flags.regions ?? DEFAULT_ORPHAN_REGIONS)
                  .split(",")
                  .map((r) => r.trim())
                  .filter(Boolean),
                ...(flags.projectDir !== undefined ? { projectDir: flags.projectDir } : {}),
              },
              (line) => process.stdout.write(`${line}\n`),
              control.interrupt,
            );
          },
        );
      }),
    );
}
