import { parseEphemeralStack, parseExpiry } from "../../tiers/infra/identity.js";
import { ExitCode, TiersError } from "../../tiers/errors.js";
import { STACK_TAGS } from "./stack-names.js";
import {
  describeCommandError,
  destroyWithRetry,
  type Automation,
  type PulumiWorkspace,
  type RetryOptions,
} from "./tier-stack.js";

/** A stack as `pulumi stack ls --json` lists it, with its tags. */
export interface ListedStack {
  readonly name: string;
  readonly updateInProgress: boolean;
  readonly tags: Readonly<Record<string, string>>;
}

export interface ReapDecision {
  readonly stack: string;
  readonly action: "destroy" | "keep" | "skip";
  readonly reason: string;
}

/**
 * What the reaper does with one stack. Only stacks the runner made are candidates: an ephemeral
 * name (`<tier>-<yyyymmdd>-<hhmm>`) or the tag `test-tiers:ephemeral=true`. One whose
 * `test-tiers:expires-at` has passed — or, with `olderThanMs`, whose name says it was created longer
 * ago than that — is destroyed, unless an update is running on it. A candidate with no expiry at all
 * is treated as expired at the longest lifetime the policy allows (`maxLifetimeMs` after its name's time).
 */
export function decideStack(
  stack: ListedStack,
  now: Date,
  maxLifetimeMs: number,
  olderThanMs?: number,
): ReapDecision | undefined {
  const named = parseEphemeralStack(stack.name.split("/").pop() ?? stack.name);
  if (!named && stack.tags[STACK_TAGS.ephemeral] !== "true") return undefined;
  const tagged = stack.tags[STACK_TAGS.expiresAt];
  const expiry = tagged !== undefined ? parseExpiry(tagged) : undefined;
  const due = expiry ?? (named ? new Date(named.createdAt.getTime() + maxLifetimeMs) : undefined);
  const old =
    olderThanMs !== undefined &&
    named !== undefined &&
    now.getTime() - named.createdAt.getTime() > olderThanMs;
  const expired = due !== undefined && due <= now;
  const why = expired
    ? `expired at ${tagged ?? `${due.toISOString().slice(0, 19)}Z (no expiry tag: its name's time + the longest lifetime)`}`
    : old
      ? `created ${named.createdAt.toISOString().slice(0, 16)}Z, older than --older-than`
      : undefined;
  if (why === undefined)
    return {
      stack: stack.name,
      action: "keep",
      reason: due ? `expires at ${tagged ?? due.toISOString()}` : "no expiry",
    };
  if (stack.updateInProgress)
    return { stack: stack.name, action: "skip", reason: `${why}, but an update is in progress` };
  return { stack: stack.name, action: "destroy", reason: why };
}

export interface ReapStacksOptions {
  readonly auto: Automation;
  readonly workspace: PulumiWorkspace;
  readonly now: Date;
  readonly maxLifetimeMs: number;
  readonly olderThanMs?: number;
  readonly dryRun: boolean;
  readonly destroyRetry?: RetryOptions;
  readonly signal: AbortSignal;
  readonly say: (line: string) => void;
}

/** Lists this project's stacks on the backend, decides each, destroys and removes the expired ones. */
export async function reapStacks(
  options: ReapStacksOptions,
): Promise<{ decisions: ReapDecision[]; live: string[]; failed: string[] }> {
  const { workspace: ws, say } = options;
  const summaries = await ws.listStacks();
  const decisions: ReapDecision[] = [];
  for (const s of summaries) {
    const tags = await ws.listTags(s.name);
    const d = decideStack(
      { name: s.name, updateInProgress: s.updateInProgress ?? false, tags },
      options.now,
      options.maxLifetimeMs,
      options.olderThanMs,
    );
    if (d) decisions.push(d);
  }
  const failed: string[] = [];
  for (const d of decisions) {
    if (d.action !== "destroy") {
      say(`${d.action === "keep" ? "keep   " : "skip   "} ${d.stack}: ${d.reason}`);
      continue;
    }
    if (options.dryRun) {
      say(`would destroy ${d.stack}: ${d.reason}`);
      continue;
    }
    if (options.signal.aborted) break;
    say(`destroy ${d.stack}: ${d.reason}`);
    try {
      const stack = await options.auto.Stack.select(d.stack, ws);
      await destroyWithRetry(stack, say, options.signal, options.destroyRetry);
      await ws.removeStack(d.stack);
      say(`removed ${d.stack}`);
    } catch (error) {
      failed.push(d.stack);
      say(
        `FAILED ${d.stack}: ${error instanceof TiersError ? [error.shortMessage, ...error.details].join("; ") : describeCommandError(error)}`,
      );
    }
  }
  const gone = new Set(
    decisions
      .filter((d) => d.action === "destroy" && !options.dryRun && !failed.includes(d.stack))
      .map((d) => d.stack),
  );
  return { decisions, live: summaries.map((s) => s.name).filter((n) => !gone.has(n)), failed };
}

/** Exit 9 when a stack (or an orphan) could not be removed: resources remain. */
export function reapFailure(failed: readonly string[]): TiersError {
  return new TiersError(
    ExitCode.TeardownFailed,
    `tiers reap: ${failed.length} could not be removed; resources may remain`,
    {
      details: failed.map((f) => `${f}`),
    },
  );
}
