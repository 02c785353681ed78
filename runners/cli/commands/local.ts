import type { Command } from "commander";
import { DEFAULT_OUT_DIR, FAIL_ON, resolveLocalOptions, type LocalFlags } from "../../local/options.js";
import { runInterruptible } from "../interruptible.js";
import { runCommand } from "../run-command.js";
import { addPlanOptions, rawPlanOptions } from "./plan.js";

/**
 * `tiers local` (what `npm start` runs): the whole local target end to end. SIGINT/SIGTERM stop the
 * run and tear everything down (exit 130); a second SIGINT kills every process group at once.
 */
export function registerLocalCommand(program: Command): void {
  addPlanOptions(
    program
      .command("local")
      .description(
        "run a whole test tier on this machine: isolated environments, cycles, bundles, central import and reports",
      )
      .option("--tier <name>", "base, stress, chaos or ultimate (default: stress)"),
  )
    .option("--out <dir>", `where runs, reports and bundles go (default: ${DEFAULT_OUT_DIR})`)
    .option("--keep", "keep the environment directories (config, token, key, SQLite, raw outputs)")
    .option(
      "--region-latency",
      "simulate each environment's region: the topology's one-way latency for its role, between load and SUT",
    )
    .option("--fail-on <what>", `what fails the run: ${FAIL_ON.join(", ")} (default: gate)`)
    .option("--db <location>", "central results database: SQLite path or postgres:// URL (TIERS_DB_URL)")
    .option("--port-base <port>", "environment i listens on port+i (default: free ports)")
    .option(
      "--monitoring",
      "run Debian's prometheus and prometheus-alertmanager on loopback with the generated rules, scraping every environment; the summary and the report list the alerts that fired",
    )
    .option(
      "--runtime <runtime>",
      "processes (default): each environment a process group; containers: the pods the local stack's Pulumi program registers, under podman",
    )
    .addHelpText(
      "after",
      `
Exit codes: 0 every gate passed (and every contract, with --fail-on contract); 3 invalid
configuration, nothing started; 4 a gate failed; 5 a contract failed (--fail-on contract);
6 infrastructure (an environment died or was unreachable, a port was taken, a bundle was refused);
130 interrupted (everything started was stopped).`,
    )
    .action((flags: LocalFlags & Parameters<typeof rawPlanOptions>[1] & { tier?: string }) =>
      runCommand(async () => {
        const options = resolveLocalOptions(flags, rawPlanOptions(flags.tier, flags));
        return runInterruptible(
          {
            first: "stopping the run and tearing everything down",
            second: "killing every process of the run",
            interrupted: "interrupted: every process the run started has been stopped",
          },
          async (control) => {
            // Loaded only when the command runs: the runner pulls in the centre and its report renderers.
            const { runLocal } = await import("../../local/run-local.js");
            return runLocal(options, { out: process.stdout, tty: process.stdout.isTTY }, control);
          },
        );
      }),
    );
}
