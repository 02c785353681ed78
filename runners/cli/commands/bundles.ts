import { resolve } from "node:path";
import type { Command } from "commander";
import { PROJECT_DIR } from "../../../stacks/config/source.js";
import { runInterruptible } from "../interruptible.js";
import { runCommand } from "../run-command.js";

/** `tiers bundles fetch <stack>`: a deployed stack's bundles, for carrying to the centre by hand. */
export function registerBundlesCommand(program: Command): void {
  const bundles = program.command("bundles").description("result bundles of a deployed stack");
  bundles
    .command("fetch")
    .description("download every bundle of a stack (from its S3 prefixes, or through the orchestrators' API)")
    .argument("<stack>", "a deployed stack of this project")
    .option("--out <dir>", "where the bundles go (default: out/bundles/<stack>)")
    .option("--cycle <id>", "only the bundles of this cycle")
    .option("--project-dir <dir>", "the Pulumi project (default: this repository; TIERS_PROJECT_DIR)")
    .addHelpText(
      "after",
      `
Exit codes: 0 fetched; 6 the stack, S3 or an orchestrator could not be reached; 7 an object in S3
was changed after upload (refused, nothing written for it); 130 interrupted.`,
    )
    .action((stack: string, flags: { out?: string; cycle?: string; projectDir?: string }) =>
      runCommand(() =>
        runInterruptible(
          {
            first: "stopping",
            second: "stopping now",
            interrupted: "interrupted: tiers bundles fetch stopped",
          },
          async (control) => {
            const { fetchBundles } = await import("../../cluster/fetch-bundles.js");
            await fetchBundles(
              {
                stack,
                outDir: resolve(flags.out ?? `out/bundles/${stack}`),
                projectDir: resolve(flags.projectDir ?? process.env.TIERS_PROJECT_DIR ?? PROJECT_DIR),
                ...(flags.cycle !== undefined ? { cycle: flags.cycle } : {}),
              },
              (line) => process.stdout.write(`${line}\n`),
              control.interrupt,
            );
            return { exitCode: 0 };
          },
        ),
      ),
    );
}
