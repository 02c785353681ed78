import type { Command } from "commander";
import type { RunFlags } from "../../cluster/run-options.js";
import { DEFAULT_RUN_OUT, DEFAULT_TTL, MAX_TTL_HOURS } from "../../cluster/stack-names.js";
import { FAIL_ON } from "../../cycle/summary.js";
import { runInterruptible } from "../interruptible.js";
import { runCommand } from "../run-command.js";

/**
 * `tiers run <stack>`: a tier's stack through the Pulumi Automation API (the user's own `pulumi`
 * CLI and backend), a cycle in every environment, the bundles to the centre, and — for an
 * ephemeral stack — destroy and `stack rm` on every path. SIGINT/SIGTERM stop the run (during `up`:
 * the CLI is interrupted and the update cancelled) and tear down; a second signal stops waiting on
 * destroy's retries.
 */
export function registerRunCommand(program: Command): void {
  program
    .command("run")
    .description(
      "bring a tier's stack up (Pulumi Automation API), run a cycle, carry its bundles to the centre, tear down",
    )
    .argument(
      "<stack>",
      "a stack of this project (stacks/Pulumi.<stack>.yaml); with --ephemeral, the template of a new stack",
    )
    .option(
      "--ephemeral",
      "create <tier>-<yyyymmdd>-<hhmm> from <stack>'s config for this run, and destroy it after",
    )
    .option(
      "--ttl <duration>",
      `how long the ephemeral stack may live before tiers reap destroys it (default: ${DEFAULT_TTL}, at most ${MAX_TTL_HOURS}h)`,
    )
    .option("--tier <name>", "the tier of the ephemeral stack (default: the template's)")
    .option("--keep-stack", "keep the ephemeral stack after the run (tiers reap destroys it after its TTL)")
    .option(
      "--owner <who>",
      "owner of the ephemeral stack (default: TIERS_OWNER, else the template's test-tiers:owner)",
    )
    .option("--time-scale <x>", "multiply the stack plan's phase durations by x (default 1: the seed's)")
    .option(
      "--central <location>",
      "where the bundles go: a central stack (stack:<name>, or the name of a stack file with test-tiers:program central), whose importer takes them from its S3 inbox; an inbox as s3://bucket/prefix; or a results database the runner imports into, a SQLite path or postgres:// URL (default TIERS_DB_URL)",
    )
    .option("--out <dir>", `where the run's reports, inbox and logs go (default: ${DEFAULT_RUN_OUT})`)
    .option("--fail-on <what>", `what fails the run: ${FAIL_ON.join(", ")} (default: gate)`)
    .option("--project-dir <dir>", "the Pulumi project (default: this repository; TIERS_PROJECT_DIR)")
    .addHelpText(
      "after",
      `
Exit codes: 0 every gate passed; 3 invalid options or stack config, nothing started; 4 a gate
failed; 5 a contract failed (--fail-on contract); 6 infrastructure (pulumi up failed, an
orchestrator was unreachable or lost, a bundle was not retrieved); 9 teardown failed: resources
may remain (the stack name and the commands that finish it are printed); 130 interrupted
(everything torn down).`,
    )
    .action((stack: string, flags: RunFlags) =>
      runCommand(async () => {
        // Loaded when the command runs: the stack config's validation pulls in the Pulumi program's modules.
        const { resolveRunOptions } = await import("../../cluster/run-options.js");
        const options = resolveRunOptions(stack, flags);
        return runInterruptible(
          {
            first: `stopping the run and tearing down${options.ephemeral && !options.keepStack ? ` (pulumi destroy of ${options.stackName})` : ""}`,
            second: "no more destroy retries",
            interrupted: `interrupted: the run stopped and its teardown ran${options.ephemeral && !options.keepStack ? ` (stack ${options.stackName} destroyed and removed)` : ""}`,
          },
          async (control) => {
            const { runCluster } = await import("../../cluster/run-cluster.js");
            return runCluster(options, { out: process.stdout, tty: process.stdout.isTTY }, control);
          },
        );
      }),
    );
}
