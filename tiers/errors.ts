/**
 * One error type and one exit-code table for the whole project (execa's `ExecaError`, k6's
 * `errext/exitcodes`). Only CLI entry points call `process.exit`; everything else throws a
 * `TiersError` carrying the exit code it maps to.
 */

/** Exit codes of every `tiers` and `orchestrator` command. Documented in README.md. */
export const ExitCode = {
  /** Everything ran and every gate passed. */
  Ok: 0,
  /** A bug: an error nobody anticipated. The message says where. */
  Internal: 1,
  /** The command line itself is wrong (unknown command, missing argument). */
  Usage: 2,
  /** A configuration file, suite, contract, plan or option is invalid. Nothing was started. */
  InvalidConfig: 3,
  /** A phase gate failed (the cycle aborted or a gate rule was violated). */
  GateFailed: 4,
  /** Contract validation failed for at least one result (with `--fail-on contract`). */
  ContractFailed: 5,
  /** Infrastructure failed: a process died, a port was taken, a disk filled, a tool hung. */
  Infrastructure: 6,
  /** A bundle was refused: signature, checksum, path or schema problem. */
  BundleRejected: 7,
  /** A mandatory policy was violated. */
  PolicyViolation: 8,
  /** Teardown failed: resources may remain (the message names the stack and how to remove it). */
  TeardownFailed: 9,
  /** Interrupted by SIGINT / SIGTERM; everything started was torn down. */
  Interrupted: 130,
} as const;

export type ExitCodeName = keyof typeof ExitCode;
export type ExitCodeValue = (typeof ExitCode)[ExitCodeName];

export interface TiersErrorOptions {
  readonly cause?: unknown;
  /** Lines shown under the short message (for example every config problem). */
  readonly details?: readonly string[];
}

/** The project's error: a short message, optional detail lines, and the exit code it maps to. */
export class TiersError extends Error {
  override readonly name: string = "TiersError";
  readonly exitCode: ExitCodeValue;
  readonly shortMessage: string;
  readonly details: readonly string[];

  constructor(exitCode: ExitCodeValue, shortMessage: string, options: TiersErrorOptions = {}) {
    const details = options.details ?? [];
    super(details.length > 0 ? `${shortMessage}\n${details.map((d) => `  ${d}`).join("\n")}` : shortMessage, {
      cause: options.cause,
    });
    this.exitCode = exitCode;
    this.shortMessage = shortMessage;
    this.details = details;
  }
}

/** Maps any thrown value to the exit code the CLI should use. */
export function exitCodeOf(error: unknown): ExitCodeValue {
  return error instanceof TiersError ? error.exitCode : ExitCode.Internal;
}
