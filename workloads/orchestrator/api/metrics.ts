import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { registerProcessMetrics } from "../../shared/process-metrics.js";
import { ORCHESTRATOR_METRICS as M, type ExportedMetric } from "../../shared/metric-names.js";
import type { CycleEnd } from "../controller/cycle-controller.js";
import type { CycleProgress } from "../controller/progress.js";

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
 * durations, and the standard process metrics. Names, types and labels are those of
 * `ORCHESTRATOR_METRICS` (workloads/shared/metric-names.ts). Gauges are read when scraped, so a
 * scrape never sees a figure older than the cycle's own state.
 */
export class OrchestratorMetrics {
  readonly registry = new Registry();
  private readonly faults: Counter;
  private readonly tests: Histogram;

  constructor(
    readonly environment: string,
    state: MetricsState,
  ) {
    const r = [this.registry];
    const env = { environment };
    registerProcessMetrics(this.registry);
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
    new Counter({
      ...spec(M.results),
      registers: r,
      collect() {
        // The running cycle's own tally: the counter starts again with each cycle (a counter reset).
        this.reset();
        const p = state.running();
        if (p) for (const [status, n] of Object.entries(p.results)) this.inc({ ...env, status }, n);
      },
    });
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
