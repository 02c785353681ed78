/**
 * The orchestrator image's entry (and the local target's orchestrator process):
 * `orchestrator serve | run-cycle PLAN | export CYCLE | verify-bundle FILE` and the workflow step
 * commands `start-cycle | run-test | run-faults | report-result | gate | finish-cycle`, and
 * `load-worker` (one share of a phase's load, in its own process or pod). Exit codes are the
 * project's (README "Exit codes"). A load worker loads only its own modules: it starts in a third of the time.
 */
import { Command, CommanderError } from "commander";
import { ExitCode, exitCodeOf, TiersError } from "../../tiers/errors.js";
import { escapeControls } from "../../tiers/safe-text.js";
import { registerLoadWorker } from "./cli/load-worker.js";

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
if (process.argv[2] !== "load-worker") {
  const [serve, runCycle, bundles, steps] = await Promise.all([
    import("./cli/serve.js"),
    import("./cli/run-cycle.js"),
    import("./cli/bundle-commands.js"),
    import("./cli/steps.js"),
  ]);
  serve.registerServe(program, run);
  runCycle.registerRunCycle(program, run);
  bundles.registerBundleCommands(program, run);
  steps.registerStepCommands(program, run);
}
registerLoadWorker(program, run);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exitCode = error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
  else throw error;
}
// The command has done its work, stopped what it started and written its output (stdout and stderr
// are synchronous for files and pipes on Linux): exit now instead of waiting for the event loop to
// drain. A socket some library leaves closing must not keep a finished command alive — seen here: a
// run-cycle that had ended its cycle spun at 100 % CPU in Node's exit cleanup for 17 minutes.
process.exit();
