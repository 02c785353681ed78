import { ExitCode, exitCodeOf, TiersError } from "../../tiers/errors.js";
import { escapeControls } from "../../tiers/safe-text.js";

/**
 * Runs a command body and turns whatever it throws into a message on stderr and an exit code
 * (README "Exit codes"). Only the CLI entry sets the process's exit code.
 */
export async function runCommand(body: () => Promise<number | void> | number | void): Promise<void> {
  try {
    const code = await body();
    process.exitCode = code ?? ExitCode.Ok;
  } catch (error) {
    process.exitCode = exitCodeOf(error);
    // Messages may quote what a file, a bundle or a tool held: controls are made visible.
    if (error instanceof TiersError) {
      process.stderr.write(`error: ${escapeControls(error.message)}\n`);
    } else {
      process.stderr.write(
        `internal error: ${escapeControls(error instanceof Error ? (error.stack ?? error.message) : String(error))}\n`,
      );
    }
  }
}
