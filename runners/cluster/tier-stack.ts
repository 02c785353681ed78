import { setTimeout as sleep } from "node:timers/promises";
import type * as automation from "@pulumi/pulumi/automation/index.js";
import { ExitCode, TiersError } from "../../tiers/errors.js";

/** The Automation API module, loaded only by the commands that drive stacks (it is large). */
export type Automation = typeof automation;
export type PulumiStack = automation.Stack;
export type PulumiWorkspace = automation.LocalWorkspace;

export interface WorkspaceOptions {
  /** The project (its Pulumi.yaml); the user's own `pulumi` CLI runs there. */
  readonly projectDir: string;
  /** A CLI other than the `pulumi` on PATH (tests: the recording stand-in). */
  readonly pulumiCommand?: automation.PulumiCommand;
  readonly envVars?: Readonly<Record<string, string>>;
}

export async function loadAutomation(): Promise<Automation> {
  return import("@pulumi/pulumi/automation/index.js");
}

/** A LocalWorkspace on the project, with the user's CLI and backend (`pulumi login` decides where state lives). */
export async function openWorkspace(
  options: WorkspaceOptions,
): Promise<{ auto: Automation; ws: PulumiWorkspace }> {
  const auto = await loadAutomation();
  try {
    const ws = await auto.LocalWorkspace.create({
      workDir: options.projectDir,
      ...(options.pulumiCommand ? { pulumiCommand: options.pulumiCommand } : {}),
      ...(options.envVars ? { envVars: { ...options.envVars } } : {}),
    });
    return { auto, ws };
  } catch (error) {
    throw new TiersError(
      ExitCode.Infrastructure,
      `the Pulumi CLI could not be run: ${describeCommandError(error)}; nothing was started`,
      {
        details: ["install it (https://www.pulumi.com/docs/install/) and log in to a backend (pulumi login)"],
        cause: error,
      },
    );
  }
}

/** The CLI's own `error: …` line from a failed command, else its last line of output. */
export function describeCommandError(error: unknown): string {
  const text =
    (error as { commandResult?: { stderr?: string } }).commandResult?.stderr ??
    (error as Error).message ??
    String(error);
  const lines = text.split("\n").map((l) => l.trim());
  const cli = lines.find((l) => l.startsWith("error: "));
  if (cli) return cli.slice("error: ".length);
  if (/ENOENT/.test(text)) return "pulumi: command not found";
  return lines.filter(Boolean).at(-1) ?? "unknown error";
}

export interface RetryOptions {
  /** @default 4 */
  readonly attempts?: number;
  /** Wait before the 2nd attempt; each later wait is `factor` times longer. @default 10000 */
  readonly backoffMs?: number;
  /** @default 3 */
  readonly factor?: number;
}

/**
 * `pulumi destroy`, retried with exponential backoff: what fails a destroy is mostly transient (an
 * ENI still detaching from a deleted node, a dependency the cloud has not let go of yet). Aborting
 * `stop` (a second Ctrl-C) interrupts the destroy in progress and retries no more. Throws the last
 * failure, with every attempt's reason.
 */
export async function destroyWithRetry(
  stack: PulumiStack,
  say: (line: string) => void,
  stop: AbortSignal,
  options: RetryOptions = {},
): Promise<void> {
  const attempts = options.attempts ?? 4;
  const factor = options.factor ?? 3;
  let wait = options.backoffMs ?? 10_000;
  const reasons: string[] = [];
  for (let i = 1; i <= attempts; i++) {
    try {
      await stack.destroy({ onOutput: streamLines(say, "  destroy: "), signal: stop });
      say(`stack ${stack.name}: destroyed${i > 1 ? ` (attempt ${i} of ${attempts})` : ""}`);
      return;
    } catch (error) {
      reasons.push(`attempt ${i}: ${describeCommandError(error)}`);
      if (stop.aborted || i === attempts) break;
      say(
        `stack ${stack.name}: destroy attempt ${i} of ${attempts} failed (${describeCommandError(error)}); retrying in ${(wait / 1000).toFixed(wait < 1000 ? 2 : 0)} s`,
      );
      try {
        await sleep(wait, undefined, { signal: stop });
      } catch {
        break;
      }
      wait *= factor;
    }
  }
  throw new TiersError(
    ExitCode.TeardownFailed,
    `destroy of stack ${stack.name} failed ${reasons.length} time${reasons.length === 1 ? "" : "s"}`,
    {
      details: reasons,
    },
  );
}

/** An `onOutput` callback that prints whole lines, each with a prefix. */
export function streamLines(say: (line: string) => void, prefix: string): (chunk: string) => void {
  let pending = "";
  return (chunk) => {
    pending += chunk;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) if (line.trim() !== "") say(`${prefix}${line.trimEnd()}`);
  };
}
