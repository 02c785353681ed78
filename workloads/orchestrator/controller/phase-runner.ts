import { setTimeout as sleep } from "node:timers/promises";
import { compileContract } from "../../../tiers/contracts/compile.js";
import type { CyclePlan, PlanEnvironment, PlanPhase, PlanTest } from "../../../tiers/plan/schema.js";
import type { CycleEvent, PhaseSummary, Sample } from "../../shared/cycle.js";
import type { Result } from "../../shared/result.js";
import type { RunContext } from "../adapters/adapter.js";
import { loadSecondSamples } from "../adapters/http-load-run.js";
import { runTest } from "../adapters/run-test.js";
import { CPU_SERIES, RSS_SERIES } from "../sampler/process-sampler.js";
import { sutSampler } from "../sampler/sut-sampler.js";
import type { EnvStore } from "../storage/env-store.js";
import type { CycleTelemetry } from "../telemetry/telemetry.js";
import { loadSegments, loadTest, type RateBasis } from "./load-plan.js";
import { summarizePhase } from "./observation.js";
import { runBounded } from "./pool.js";
import { runPhaseFaults, sweepPhaseFaults, worstRecovery } from "./phase-faults.js";
import type { CycleProgress } from "./progress.js";
import { waitHealthy, type EnvironmentRuntime } from "./runtime.js";

export interface PhaseRunInput {
  readonly store: EnvStore;
  readonly cycleId: string;
  readonly plan: CyclePlan;
  readonly environment: PlanEnvironment;
  readonly phase: PlanPhase;
  readonly runtime: EnvironmentRuntime;
  readonly progress: CycleProgress;
  /** The cycle's calibration (relative load mode), which its relative rates come from. */
  readonly calibration: RateBasis | null;
  /** Aborts the whole cycle (interrupt); the phase stops its load, undoes its faults and ends. */
  readonly signal: AbortSignal;
  /** The cycle's logs, traces and metrics (none without). */
  readonly telemetry?: CycleTelemetry;
}

/** How often buffered samples are committed. */
const FLUSH_MS = 1000;
/** How long before a phase the SUT may take to answer its health check. */
const PRE_PHASE_HEALTH_MS = 15_000;

/**
 * Runs one phase: pre-phase checks, the phase's load held for its duration, its tests in parallel
 * under `max_parallel` (committed one by one), the chaos phase's faults on their schedule (always
 * undone), SUT sampling; then the gate. Returns the committed summary.
 */
export async function runPhase(input: PhaseRunInput): Promise<PhaseSummary> {
  const { store, cycleId, plan, environment, phase, runtime, progress, telemetry } = input;
  const emit = (event: CycleEvent): void => {
    store.appendEvent(cycleId, event);
    telemetry?.event(event);
  };
  const traced = (test: PlanTest, run: () => Promise<Result>): Promise<Result> =>
    telemetry ? telemetry.test(test, run) : run();
  const event = (kind: string, detail: Record<string, unknown>): void =>
    emit({ ts_ms: Date.now(), phase: phase.name, kind, detail });

  if (!(await waitHealthy(runtime.healthUrl, PRE_PHASE_HEALTH_MS).then((ms) => ms !== null))) {
    throw new PhaseCheckFailed(
      `pre-phase check before ${phase.name}: the SUT at ${runtime.healthUrl} is not healthy`,
    );
  }
  const startedAt = new Date();
  const attempt = store.startPhase(cycleId, phase.name, phase.index, startedAt.toISOString());
  const p = progress.phase(phase.name);
  p.status = "running";
  p.started_ms = startedAt.getTime();
  progress.current = phase.name;
  telemetry?.phaseStarted(phase, attempt);
  event("phase.started", { attempt, duration_ms: phase.duration_ms });

  // Samples: buffered, committed every second in one transaction each.
  let buffer: Sample[] = [];
  const cpu: number[] = [];
  const rss: number[] = [];
  const flush = (): void => {
    if (buffer.length === 0) return;
    const batch = buffer;
    buffer = [];
    store.insertSamples(cycleId, attempt, batch);
  };
  const flusher = setInterval(() => {
    try {
      flush();
    } catch (error) {
      stop.abort(error);
    }
  }, FLUSH_MS);
  const onSample = (s: Sample): void => {
    buffer.push(s);
    if (s.series === CPU_SERIES) {
      cpu.push(s.value);
      progress.latest.cpu_pct = s.value;
    } else if (s.series === RSS_SERIES) {
      rss.push(s.value);
      progress.latest.rss_bytes = s.value;
    }
  };
  const sampler = sutSampler(runtime, () => phase.name, onSample);
  sampler.start();
  if (runtime.sampleRoots().every((pid) => pid === undefined) && runtime.faults) {
    event("sampler.no_process", { note: "no SUT process to sample at phase start" });
  }

  const stop = new AbortController();
  const onCycleAbort = (): void => stop.abort(input.signal.reason);
  input.signal.addEventListener("abort", onCycleAbort, { once: true });

  const runCtx = (): RunContext => ({
    cycleId,
    environment: environment.id,
    phase: phase.name,
    rawDir: runtime.rawDir,
    scratchDir: runtime.scratchDir,
    sutUrl: runtime.targetUrl,
    ...(runtime.iperf3Server ? { iperf3Server: runtime.iperf3Server } : {}),
    tools: environment.tools,
    signal: stop.signal,
    ...(runtime.load ? { load: runtime.load } : {}),
  });

  // The phase load: one http-load run per constant stretch, in order.
  const segments = loadSegments(phase, input.calibration);
  const httpRules = compileContract("HttpLoadContract", plan.contracts.HttpLoadContract!).rules;
  const loadResults: Result[] = [];
  const loadDone = (async () => {
    for (const [i, seg] of segments.entries()) {
      if (stop.signal.aborted) break;
      const wait = startedAt.getTime() + seg.at_ms - Date.now();
      if (wait > 0) await sleep(wait, undefined, { signal: stop.signal }).catch(() => undefined);
      if (stop.signal.aborted) break;
      if (seg.rps <= 0) continue;
      const test = loadTest(
        phase,
        { ...seg, duration_ms: Math.max(100, seg.duration_ms) },
        i,
        segments.length,
        httpRules,
      );
      const result = await traced(test, () =>
        runTest(test, plan.contracts, {
          ...runCtx(),
          onLoadSecond: (s) => {
            telemetry?.loadSecond({ rps: s.rps, p99_ms: s.p99_ms, errors: s.errors + s.non_2xx });
            buffer.push(...loadSecondSamples(s, phase.name));
            Object.assign(progress.latest, {
              ts_ms: s.ts_ms,
              rps: s.rps,
              p99_ms: s.p99_ms,
              p95_ms: s.p95_ms,
              errors: s.errors + s.non_2xx,
              error_ratio: (s.errors + s.non_2xx) / Math.max(1, s.responses + s.errors),
            });
          },
        }),
      );
      loadResults.push(result);
    }
  })();

  // The phase's tests, skipping those a killed attempt already committed.
  const committed = store.committedTestIds(cycleId);
  const pending = phase.tests.filter((t) => !committed.has(t.id));
  const testsDone = runBounded(pending, environment.max_parallel, async (t) => {
    if (stop.signal.aborted) return;
    const result = await traced(t, () => runTest(t, plan.contracts, runCtx()));
    if (store.commitResult(result)) progress.countResult(result.status);
  });

  // The chaos phase's faults on their schedule (the plan's seeded order), each measured for
  // detection and recovery (recovery.ts) against the phase's fault_recovery_missed rule, else
  // seed 001's automation targets; the same code as the workflow's run-faults step (phase-faults.ts).
  const faults = runPhaseFaults({
    cycleId,
    phase,
    runtime,
    startedAtMs: startedAt.getTime(),
    signal: stop.signal,
    emit,
  });
  const faultsDone = faults.done;

  let status: "completed" | "aborted" = "completed";
  let failure: unknown;
  try {
    await sleep(phase.duration_ms, undefined, { signal: stop.signal }).catch(() => undefined);
    await Promise.all([loadDone, testsDone, faultsDone]);
  } catch (error) {
    failure = error;
    stop.abort(error);
    await Promise.allSettled([loadDone, testsDone, faultsDone]);
  } finally {
    input.signal.removeEventListener("abort", onCycleAbort);
    // No chaos resource outlives its phase: whatever an undo could not delete, the cycle's sweep does.
    if (phase.faults.length > 0) await sweepPhaseFaults(runtime, cycleId, event);
  }
  if (stop.signal.aborted) status = "aborted";

  // The worst recovery of the phase's faults; null when one never recovered (or none was undone).
  const recoveredAfterMs = worstRecovery(faults.recoveries);
  const sutDown = (await waitHealthy(runtime.healthUrl, 2000)) === null;

  await sampler.stop();
  clearInterval(flusher);
  flush();
  // A storage failure (disk full, read-only) stops the cycle: nothing measured after it could be kept.
  const reason: unknown =
    failure ?? (stop.signal.aborted && !input.signal.aborted ? stop.signal.reason : undefined);
  if (reason !== undefined && !(reason instanceof Error && reason.name === "AbortError")) {
    throw reason instanceof Error
      ? reason
      : new Error(`phase ${phase.name} stopped: ${JSON.stringify(reason)}`);
  }

  const endedAt = new Date();
  const phaseResults = [...store.results(cycleId)].filter((r) => r.phase === phase.name);
  const targets = segments.filter((s) => s.rps > 0);
  const { summary } = summarizePhase(
    {
      phase,
      status,
      startedAt,
      endedAt,
      loadResults,
      testResults: phaseResults,
      cpuPct: cpu,
      rssBytes: rss,
      sutDown,
      recoveredAfterMs,
      faultRecoveries: faults.faultRecoveries,
      targetRps: targets.length
        ? targets.reduce((n, s) => n + s.rps * s.duration_ms, 0) /
          targets.reduce((n, s) => n + s.duration_ms, 0)
        : null,
    },
    environment,
  );
  store.finishPhase(cycleId, summary, loadResults);
  for (const r of loadResults) progress.countResult(r.status);
  p.status = summary.status;
  p.gate = summary.gate.verdict;
  telemetry?.phaseEnded(summary);
  event("phase.ended", {
    status: summary.status,
    gate: summary.gate.verdict,
    duration_ms: summary.duration_ms,
  });
  return summary;
}

/** A pre-phase check failed: the cycle cannot go on. */
export class PhaseCheckFailed extends Error {
  override readonly name = "PhaseCheckFailed";
}
