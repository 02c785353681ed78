/**
 * The orchestrator image's entry (and the local target's orchestrator process):
 * `orchestrator serve | run-cycle PLAN | export CYCLE | verify-bundle FILE` and the workflow step
 * commands `start-cycle | run-test | report-result | gate | finish-cycle`. Exit codes are the
 * project's (README "Exit codes").
 */
import { Command, CommanderError } from "commander";
import { ExitCode, exitCodeOf, TiersError } from "../../tiers/errors.js";
import { escapeControls } from "../../tiers/safe-text.js";
import { registerBundleCommands } from "./cli/bundle-commands.js";
import { registerRunCycle } from "./cli/run-cycle.js";
import { registerServe } from "./cli/serve.js";
import { registerStepCommands } from "./cli/steps.js";

async function run(body: () => Promise<number | void>): Promise<void> {
  try {
    process.exitCode = (await body()) ?? ExitCode.Ok;
  } catch (error) {
    process.exitCode = exitCodeOf(error);
    process.stderr.write(
      escapeControls(
        error instanceof TiersError
          ? `error: ${error.message}\n`
          : `internal error: ${(error as Error).stack ?? String(error)}\n`,
      ),
    );
  }
}

const program = new Command("orchestrator")
  .description("test-tiers orchestrator: one isolated environment's cycles, storage, bundles and API")
  .showHelpAfterError()
  .exitOverride();
registerServe(program, run);
registerRunCycle(program, run);
registerBundleCommands(program, run);
registerStepCommands(program, run);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exitCode = error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
  else throw error;
}
