import { setTimeout as sleep } from "node:timers/promises";
import { ExitCode, TiersError } from "../../tiers/errors.js";
import type { CyclePlan } from "../../tiers/plan/schema.js";
import type { BundleSource } from "./bundle-source.js";
import type { CycleStatus, OrchestratorClient } from "./orchestrator-client.js";
import type { EnvironmentView } from "./progress-display.js";

/**
 * One isolated environment as the runner sees it, whatever the target: an API client and a way to
 * learn that the environment went away (a local process exited; a pod was deleted). The local
 * target builds these from processes (`runners/local/environments.ts`); the cluster target from
 * port-forwards. Everything in `runners/cycle/` works on handles only.
 */
export interface EnvironmentHandle {
  readonly id: string;
  readonly region: string;
  readonly client: OrchestratorClient;
  /** Resolves (never rejects) with why the environment is gone, if it goes before it is stopped. */
  readonly lost: Promise<string>;
  /** Where its bundles are taken from. @default the orchestrator's API */
  readonly bundles?: BundleSource;
}

/** A cycle state that will not change any more. */
export function isFinal(status: CycleStatus | null): boolean {
  return status !== null && status.state !== "running" && status.state !== "calibrating";
}

export interface DriveOptions {
  readonly plan: CyclePlan;
  readonly environments: readonly EnvironmentHandle[];
  /** One id for the cycle in every environment, so the centre groups their bundles. */
  readonly cycleId: string;
  /** Aborting stops the wait (the caller tears down); `driveCycle` then throws Interrupted. */
  readonly signal: AbortSignal;
  readonly pollMs?: number;
  /** Consecutive failed status calls after which an environment counts as unreachable. @default 10 */
  readonly maxPollFailures?: number;
  /** Called after each poll round with every environment's view. */
  readonly onUpdate?: (views: readonly EnvironmentView[]) => void;
  readonly onEvent?: (line: string) => void;
}

function interrupted(): TiersError {
  return new TiersError(ExitCode.Interrupted, "interrupted: stopping every environment");
}

/**
 * Triggers the cycle in every environment through its API, then polls each until its cycle ends
 * or the environment is lost. An environment that fails does not stop the others: its view says
 * why. Returns the final views, in the order of `environments`.
 */
export async function driveCycle(options: DriveOptions): Promise<EnvironmentView[]> {
  const { plan, signal } = options;
  const views: EnvironmentView[] = options.environments.map((e) => ({
    id: e.id,
    region: e.region,
    phaseMs: (plan.environments.find((p) => p.id === e.id)?.phases ?? []).map((p) => p.duration_ms),
    status: null,
    failure: null,
  }));
  const lostReason = new Map<string, string>();
  for (const e of options.environments) void e.lost.then((why) => lostReason.set(e.id, why));

  const cycleIds = await Promise.all(
    options.environments.map(async (e, i) => {
      try {
        const id = await e.client.trigger(plan, { cycleId: options.cycleId });
        options.onEvent?.(`${e.id}: cycle ${id} triggered`);
        return id;
      } catch (error) {
        if (error instanceof TiersError && error.exitCode === ExitCode.InvalidConfig) throw error;
        views[i]!.failure = `trigger failed: ${(error as Error).message}`;
        return null;
      }
    }),
  );
  if (signal.aborted) throw interrupted();

  const failures = new Map<string, number>();
  const pollMs = options.pollMs ?? 500;
  const maxFailures = options.maxPollFailures ?? 10;
  /** Polls one environment once; marks it failed (with the phase it was in) when it is gone. */
  const poll = async (e: EnvironmentHandle, view: EnvironmentView, cycleId: string): Promise<void> => {
    const fail = (why: string): void => {
      view.failure = `${why}${view.status?.phase ? ` during phase ${view.status.phase.name}` : ""}`;
      options.onEvent?.(`${e.id}: ${view.failure}`);
    };
    const gone = lostReason.get(e.id);
    if (gone !== undefined) return fail(gone);
    try {
      view.status = await e.client.status(cycleId);
      failures.set(e.id, 0);
      const st = view.status;
      if (isFinal(st))
        options.onEvent?.(
          `${e.id}: cycle ${st.state}, verdict ${st.verdict ?? "-"}${st.reason ? ` (${st.reason})` : ""}`,
        );
    } catch (error) {
      const n = (failures.get(e.id) ?? 0) + 1;
      failures.set(e.id, n);
      // A lost process explains the failed call; say that rather than the socket error.
      await sleep(50);
      const why = lostReason.get(e.id);
      if (why !== undefined) fail(why);
      else if (n >= maxFailures) fail(`unreachable: ${(error as Error).message}`);
    }
  };
  for (;;) {
    const open = options.environments.flatMap((e, i) =>
      views[i]!.failure === null && !isFinal(views[i]!.status) ? [poll(e, views[i]!, cycleIds[i]!)] : [],
    );
    if (open.length === 0) break;
    await Promise.all(open);
    options.onUpdate?.(views);
    if (signal.aborted) throw interrupted();
    try {
      await sleep(pollMs, undefined, { signal });
    } catch {
      throw interrupted();
    }
  }
  options.onUpdate?.(views);
  return views;
}
