import { ExitCode, TiersError } from "../../tiers/errors.js";
import type { RunControl } from "../cycle/run-cycle.js";

/**
 * Runs a command that tears down what it started, under SIGINT/SIGTERM: the first signal aborts
 * `interrupt` (stop, tear down gracefully, exit 130), a second one aborts `force`. A teardown that
 * failed (exit 9: resources may remain) is reported as such even when a signal stopped the run.
 */
export interface InterruptMessages {
  /** After the first signal: `SIGINT: <first> (again to force)`. */
  readonly first: string;
  /** After the second: `SIGINT again: <second>`. */
  readonly second: string;
  /** The exit-130 message. */
  readonly interrupted: string;
}

export async function runInterruptible(
  messages: InterruptMessages,
  body: (control: RunControl) => Promise<{ exitCode: number }>,
): Promise<number> {
  const interrupt = new AbortController();
  const force = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupt.signal.aborted) {
      process.stderr.write(`${signal} again: ${messages.second}\n`);
      force.abort();
    } else {
      process.stderr.write(`${signal}: ${messages.first} (again to force)\n`);
      interrupt.abort();
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  let outcome: { exitCode: number } | { error: unknown };
  try {
    outcome = await body({ interrupt: interrupt.signal, force: force.signal });
  } catch (error) {
    outcome = { error };
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  const error: unknown = "error" in outcome ? outcome.error : undefined;
  if (error instanceof TiersError && error.exitCode === ExitCode.TeardownFailed) throw error;
  // Interrupted, whatever the run was doing when the signal came: exit 130, with the details the
  // run gave (where the bundles wait when it stopped after the hand-off).
  if (interrupt.signal.aborted) {
    throw new TiersError(ExitCode.Interrupted, messages.interrupted, {
      details: error instanceof TiersError && error.exitCode === ExitCode.Interrupted ? error.details : [],
    });
  }
  if ("error" in outcome) throw outcome.error as Error;
  return outcome.exitCode;
}
