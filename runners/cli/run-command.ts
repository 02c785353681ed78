import { ExitCode, exitCodeOf, TiersError } from "../../tiers/errors.js";

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
    if (error instanceof TiersError) {
      process.stderr.write(`error: ${error.message}\n`);
    } else {
      process.stderr.write(
        `internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
    }
  }
}
