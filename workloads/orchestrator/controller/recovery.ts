import { isHealthy } from "./runtime.js";

/**
 * Seed 001's automation targets (tiers/catalog/monitoring.yaml `rollback.automation`: detection
 * 30 s, rollback 120 s), used when the phase has no fault_recovery_missed rule carrying its own;
 * a test checks they equal the catalog's.
 */
export const AUTOMATION_TARGETS = { detection_ms: 30_000, recovery_ms: 120_000 } as const;

/**
 * Recovery of one fault, as seed 001's automation targets measure it: from the injection to the
 * SUT's first failed probe (detection), and from that probe to the first healthy one after it
 * (recovery). A probe is a GET of the SUT's /healthz as the load sees it (through the fault
 * proxy on the local target, the SUT's Service on the cluster): a partition counts.
 */
export interface FaultRecovery {
  readonly scenario: string;
  readonly injected_at_ms: number;
  /** When the first probe failed; null: none failed (the fault had no visible effect). */
  readonly first_failed_at_ms: number | null;
  /** When the SUT answered healthy again after that; null: not within the limit. */
  readonly healthy_again_at_ms: number | null;
  /** first_failed_at_ms − injected_at_ms. */
  readonly detection_ms: number | null;
  /** healthy_again_at_ms − first_failed_at_ms. */
  readonly recovery_ms: number | null;
  readonly probes: number;
  readonly failed_probes: number;
}

export interface RecoveryProbeOptions {
  readonly url: string;
  readonly scenario: string;
  /** How often to probe, ms. @default 250 */
  readonly everyMs?: number;
  /** One probe's timeout, ms. @default 1000 */
  readonly timeoutMs?: number;
}

/**
 * Probes from `start()` (the injection) on. `finish(limits)` (after the fault is undone) keeps
 * probing until the SUT is healthy again after a failure, or — with no failure yet — until
 * `detectWithinMs` more have passed; then, having failed, for at most `recoverWithinMs` after the
 * undo; `signal` (the phase's end) stops it early with what was seen so far.
 */
export class RecoveryProbe {
  private injectedAt = 0;
  private firstFailedAt: number | null = null;
  private healthyAgainAt: number | null = null;
  private probes = 0;
  private failed = 0;
  private running: Promise<void> | undefined;
  /** Set by finish(): when probing ends (ms since epoch), from what has been seen so far. */
  private deadline: () => number = () => Number.POSITIVE_INFINITY;
  private stopped = false;

  constructor(private readonly options: RecoveryProbeOptions) {}

  start(at = Date.now()): void {
    this.injectedAt = at;
    this.running = this.loop();
  }

  get started(): boolean {
    return this.running !== undefined;
  }

  private async loop(): Promise<void> {
    const every = this.options.everyMs ?? 250;
    while (!this.stopped && Date.now() < this.deadline()) {
      const t = Date.now();
      const ok = await isHealthy(this.options.url, this.options.timeoutMs ?? 1000);
      this.probes += 1;
      if (!ok) {
        this.failed += 1;
        if (this.firstFailedAt === null) this.firstFailedAt = t;
      } else if (this.firstFailedAt !== null) {
        this.healthyAgainAt = Date.now();
        return;
      }
      const wait = Math.min(every - (Date.now() - t), this.deadline() - Date.now());
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  }

  /**
   * Called once the fault is undone. With no failed probe yet, failures still count for
   * `detectWithinMs` more; once one has failed, probing goes on for `recoverWithinMs` after
   * max(undo, first failure). Never past `until` (the phase's end) or `signal`.
   */
  async finish(limits: {
    readonly detectWithinMs: number;
    readonly recoverWithinMs: number;
    readonly until?: number;
    readonly signal?: AbortSignal;
  }): Promise<FaultRecovery> {
    if (this.running) {
      const undoneAt = Date.now();
      const until = limits.until ?? Number.POSITIVE_INFINITY;
      this.deadline = () =>
        Math.min(
          until,
          this.firstFailedAt === null
            ? undoneAt + limits.detectWithinMs
            : Math.max(undoneAt, this.firstFailedAt) + limits.recoverWithinMs,
        );
      const onAbort = (): void => {
        this.stopped = true;
      };
      if (limits.signal?.aborted) this.stopped = true;
      limits.signal?.addEventListener("abort", onAbort, { once: true });
      await this.running;
      limits.signal?.removeEventListener("abort", onAbort);
    }
    const detection = this.firstFailedAt === null ? null : this.firstFailedAt - this.injectedAt;
    const recovery =
      this.firstFailedAt === null || this.healthyAgainAt === null
        ? null
        : this.healthyAgainAt - this.firstFailedAt;
    return {
      scenario: this.options.scenario,
      injected_at_ms: this.injectedAt,
      first_failed_at_ms: this.firstFailedAt,
      healthy_again_at_ms: this.healthyAgainAt,
      detection_ms: detection,
      recovery_ms: recovery,
      probes: this.probes,
      failed_probes: this.failed,
    };
  }
}
