import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { registerProcessMetrics, registerRuntimeMetrics } from "../../shared/process-metrics.js";
import { ORCHESTRATOR_METRICS as M, type ExportedMetric } from "../../shared/metric-names.js";
import { RESULT_STATUSES, type ResultStatus } from "../../shared/result.js";
import type { CycleEnd } from "../controller/cycle-controller.js";
import type { CycleProgress } from "../controller/progress.js";
import type { WorkerLoopSink } from "../load/local-workers.js";
import type { EventLoopDelay } from "../load/protocol.js";

/** What the scrape reads at the moment it happens: the running cycle, the last one, the store. */
export interface MetricsState {
  readonly running: () => CycleProgress | undefined;
  readonly lastEnd: () => CycleEnd | undefined;
  readonly cycleCount: () => number;
}

const spec = <T extends ExportedMetric>(m: T) => ({
  name: m.name,
  help: m.help,
  labelNames: [...m.labels] as string[],
});

/**
 * The orchestrator's own metrics through prom-client, on a registry of its own (several
 * environments may share a process in tests): seed 001's `stress_phase_progression` per phase of
 * the running cycle, the latest load and SUT figures, results by status, fault events, test
 * durations, each load worker's event-loop delay, the standard process metrics and this process's
 * event-loop lag and GC pauses. Names, types and labels are those of `ORCHESTRATOR_METRICS` and
 * `RUNTIME_METRICS` (workloads/shared/metric-names.ts). Gauges are read when scraped, so a scrape
 * never sees a figure older than the cycle's own state; counters only grow, whatever the cycles.
 */
export class OrchestratorMetrics implements WorkerLoopSink {
  readonly registry = new Registry();
  private readonly faults: Counter;
  private readonly tests: Histogram;
  private readonly results: Counter;
  /** The latest second's event-loop delay of each running load worker, by pid (or pod name). */
  private readonly workerLoops = new Map<number | string, EventLoopDelay>();

  constructor(
    readonly environment: string,
    state: MetricsState,
  ) {
    const r = [this.registry];
    const env = { environment };
    registerProcessMetrics(this.registry);
    registerRuntimeMetrics(this.registry);
    new Gauge({
      ...spec(M.phaseProgression),
      registers: r,
      collect() {
        this.reset();
        const p = state.running();
        if (p)
          for (const ph of p.phases)
            this.set({ ...env, cycle: p.cycleId, phase: ph.name }, p.progression(ph.name));
      },
    });
    new Gauge({
      ...spec(M.phaseCurrent),
      registers: r,
      collect() {
        this.reset();
        const p = state.running();
        if (p?.current) this.set({ ...env, cycle: p.cycleId, phase: p.current }, 1);
      },
    });
    new Gauge({
      ...spec(M.cycleRunning),
      registers: r,
      collect() {
        this.set(env, state.running() ? 1 : 0);
      },
    });
    new Gauge({
      ...spec(M.cycleLastPassed),
      registers: r,
      collect() {
        this.reset();
        const end = state.lastEnd();
        if (end) this.set({ ...env, cycle: end.cycleId }, end.verdict === "passed" ? 1 : 0);
      },
    });
    const latest = (m: ExportedMetric, read: (p: CycleProgress) => number | null): void => {
      new Gauge({
        ...spec(m),
        registers: r,
        collect() {
          this.reset();
          const p = state.running();
          const v = p ? read(p) : null;
          if (v != null) this.set(env, v);
        },
      });
    };
    latest(M.loadRps, (p) => p.latest.rps);
    latest(M.loadP99, (p) => (p.latest.p99_ms == null ? null : p.latest.p99_ms / 1000));
    latest(M.loadErrors, (p) => p.latest.errors);
    latest(M.sutCpu, (p) => p.latest.cpu_pct);
    latest(M.loadP95, (p) => (p.latest.p95_ms == null ? null : p.latest.p95_ms / 1000));
    latest(M.loadErrorRatio, (p) => p.latest.error_ratio);
    latest(M.sutMemoryPercent, (p) =>
      p.latest.rss_bytes == null ? null : (p.latest.rss_bytes / p.environment.resources.memory_bytes) * 100,
    );
    latest(M.sutMemory, (p) => p.latest.rss_bytes);
    // Counted as results are committed (`resultCommitted`), never reset: every status is there from
    // the start, at 0, so a rate over it needs no first result.
    this.results = new Counter({ ...spec(M.results), registers: r });
    for (const status of RESULT_STATUSES) this.results.inc({ ...env, status }, 0);
    const workerLoops = this.workerLoops;
    const workerLoop = (m: ExportedMetric, read: (d: EventLoopDelay) => number): void => {
      new Gauge({
        ...spec(m),
        registers: r,
        collect() {
          this.reset();
          for (const [pid, d] of workerLoops) this.set({ ...env, worker: String(pid) }, read(d) / 1000);
        },
      });
    };
    workerLoop(M.workerLoopP99, (d) => d.p99_ms);
    workerLoop(M.workerLoopMax, (d) => d.max_ms);
    new Counter({
      ...spec(M.cycles),
      registers: r,
      collect() {
        this.reset();
        this.inc(env, state.cycleCount());
      },
    });
    this.faults = new Counter({ ...spec(M.faultEvents), registers: r });
    this.tests = new Histogram({
      ...spec(M.testDuration),
      buckets: [...M.testDuration.buckets],
      registers: r,
    });
  }

  /** A fault event of a cycle (`fault.injected`, `fault.undone`, `fault.skipped`, …). */
  faultEvent(scenario: string, kind: string): void {
    this.faults.inc({ environment: this.environment, scenario, kind });
  }

  /** A result committed to the environment's store (a test's, or a phase load segment's). */
  resultCommitted(status: ResultStatus): void {
    this.results.inc({ environment: this.environment, status });
  }

  /** A load worker's event-loop delay over its latest second (`WorkerLoopSink`). */
  second(pid: number | string, delay: EventLoopDelay): void {
    this.workerLoops.set(pid, delay);
  }

  /** A load worker exited: its series go. */
  ended(pid: number | string): void {
    this.workerLoops.delete(pid);
  }

  /** A test or load segment finished. */
  testEnded(phase: string, status: string, seconds: number): void {
    this.tests.observe({ environment: this.environment, phase, status }, seconds);
  }

  /** The text exposition (format 0.0.4). */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
