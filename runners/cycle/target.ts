import type { CyclePlan } from "../../tiers/plan/schema.js";
import type { CycleReport } from "../../workloads/central/analysis/report-model.js";
import type { EnvironmentHandle } from "./drive.js";

/** Where and how a run's environments exist, and how the runner tells the user about it. */
export interface TargetContext {
  readonly plan: CyclePlan;
  /** The run's cycle id (one for every environment). */
  readonly cycleId: string;
  /** The run's directory: logs, inbox, keyring, reports (targets may put their scratch under it). */
  readonly runDir: string;
  /** Ctrl-C / SIGTERM: provisioning stops as soon as it can and rejects with Interrupted. */
  readonly signal: AbortSignal;
  readonly say: (line: string) => void;
}

/** An environment the target provisioned and the runner reached: an API client plus what it trusts. */
export interface ReachedEnvironment extends EnvironmentHandle {
  /** The environment's public signing key as a keyring line, read from the environment (or its stack). */
  readonly keyringLine: string;
  /** One line for the start-up log: where it runs and how it is reached. */
  readonly description: string;
}

/**
 * One target of the runner: the local processes, the local containers, a cluster stack. The runner
 * (`runCycleOnTarget`) drives every target the same way: provision → reach → trigger and follow →
 * retrieve bundles → teardown (always) → import and report. A target implements provision and
 * teardown only.
 *
 * Contract: `provision` records whatever it starts *before* it waits on it, so that `teardown` — which
 * the runner calls exactly once, after success, failure, interrupt, and also when `provision` threw
 * halfway — finds and stops it. `teardown` never throws for something it could still stop; when it
 * cannot make sure everything is gone it throws a TiersError naming what may remain.
 */
export interface RunTarget {
  /** What the start line calls it ("local processes", "containers (podman)", "stack stress-20261202-0930"). */
  readonly name: string;
  provision(context: TargetContext): Promise<readonly ReachedEnvironment[]>;
  /** `force` aborts (a second Ctrl-C): kill at once instead of stopping gracefully. */
  teardown(force: AbortSignal, say: (line: string) => void): Promise<void>;
  /**
   * With monitoring: the alerts its Prometheus reported firing, read during teardown before it
   * stopped (the report's "Alerts fired" section); undefined without monitoring.
   */
  readonly monitoring?: () => NonNullable<CycleReport["monitoring"]> | undefined;
}
