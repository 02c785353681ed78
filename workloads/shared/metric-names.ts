/** A result metric's name in the statistics: `<test>:<metric>` (`http_probe:latency_p99`), apart from sample series' dotted names. */
export function resultMetricName(test: string, metric: string): string {
  return `${test}:${metric}`;
}

/**
 * Every Prometheus series the orchestrator and the sample SUT export, in one place: the metrics
 * code registers exactly these (names, types, label names, help), and the generated alert rules
 * and dashboards (issue 13) are written against them. Names and label sets are stable; new series
 * are added, none renamed. Both programs also export `PROCESS_METRICS` (no labels;
 * workloads/shared/process-metrics.ts), the orchestrator `RUNTIME_METRICS` too.
 */
export interface ExportedMetric {
  readonly name: string;
  readonly type: "gauge" | "counter" | "histogram";
  /** Label names in the order they are written. Histograms add `le` on their buckets. */
  readonly labels: readonly string[];
  readonly help: string;
  /** For histograms: bucket upper bounds in seconds. */
  readonly buckets?: readonly number[];
}

/** The orchestrator's own metrics (`GET /metrics` of the orchestrator API). */
export const ORCHESTRATOR_METRICS = {
  phaseProgression: {
    name: "stress_phase_progression",
    type: "gauge",
    labels: ["environment", "cycle", "phase"],
    help: "Fraction of each phase's planned time that has passed in the running cycle (1 = done).",
  },
  cycleRunning: {
    name: "tiers_cycle_running",
    type: "gauge",
    labels: ["environment"],
    help: "1 while a cycle runs in this environment.",
  },
  cycleLastPassed: {
    name: "tiers_cycle_last_passed",
    type: "gauge",
    labels: ["environment", "cycle"],
    help: "1 when the last finished cycle passed every gate, 0 when it did not; absent before the first.",
  },
  phaseCurrent: {
    name: "tiers_phase_current",
    type: "gauge",
    labels: ["environment", "cycle", "phase"],
    help: "1 for the phase the running cycle is in; absent between phases and cycles.",
  },
  loadRps: {
    name: "tiers_load_rps",
    type: "gauge",
    labels: ["environment"],
    help: "Requests per second the phase load achieved in its latest second.",
  },
  loadP99: {
    name: "tiers_load_p99_seconds",
    type: "gauge",
    labels: ["environment"],
    help: "p99 latency of the phase load's latest second.",
  },
  loadP95: {
    name: "tiers_load_p95_seconds",
    type: "gauge",
    labels: ["environment"],
    help: "p95 latency of the phase load's latest second.",
  },
  loadErrorRatio: {
    name: "tiers_load_error_ratio",
    type: "gauge",
    labels: ["environment"],
    help: "Share of the phase load's requests in its latest second that failed (connection error or non-2xx), 0..1.",
  },
  sutMemoryPercent: {
    name: "tiers_sut_memory_percent",
    type: "gauge",
    labels: ["environment"],
    help: "The SUT's resident memory in percent of its allocation, latest sample.",
  },
  loadErrors: {
    name: "tiers_load_errors",
    type: "gauge",
    labels: ["environment"],
    help: "Errors and non-2xx answers the phase load saw in its latest second.",
  },
  sutCpu: {
    name: "tiers_sut_cpu_percent",
    type: "gauge",
    labels: ["environment"],
    help: "The SUT's CPU use in percent of its allocation, latest sample.",
  },
  sutMemory: {
    name: "tiers_sut_memory_bytes",
    type: "gauge",
    labels: ["environment"],
    help: "The SUT's resident memory, latest sample.",
  },
  results: {
    name: "tiers_results_total",
    type: "counter",
    labels: ["environment", "status"],
    help: "Results this process's cycles committed, by status (grows across cycles; 0 again only when the process restarts).",
  },
  faultEvents: {
    name: "tiers_fault_events_total",
    type: "counter",
    labels: ["environment", "scenario", "kind"],
    help: "Fault events of this process's cycles by scenario and kind (fault.injected, fault.undone, fault.skipped, …).",
  },
  cycles: {
    name: "tiers_cycles_total",
    type: "counter",
    labels: ["environment"],
    help: "Cycles this environment's store holds.",
  },
  workerLoopP99: {
    name: "tiers_load_worker_eventloop_lag_p99_seconds",
    type: "gauge",
    labels: ["environment", "worker"],
    help: "p99 event-loop delay of each running load worker (worker: its pid, or its pod in a load Job) over its latest second.",
  },
  workerLoopMax: {
    name: "tiers_load_worker_eventloop_lag_max_seconds",
    type: "gauge",
    labels: ["environment", "worker"],
    help: "Longest event-loop delay of each running load worker (worker: its pid, or its pod in a load Job) in its latest second.",
  },
  testDuration: {
    name: "tiers_test_duration_seconds",
    type: "histogram",
    labels: ["environment", "phase", "status"],
    help: "Wall time of each test (and load segment) the orchestrator ran, by phase and status.",
    buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
  },
} as const satisfies Record<string, ExportedMetric>;

/** The sample SUT's metrics (`GET /metrics` of the SUT). */
export const SUT_METRICS = {
  requests: {
    name: "sut_requests_total",
    type: "counter",
    labels: ["code", "route"],
    help: "Requests answered, by route and status code.",
  },
  requestErrors: {
    name: "sut_request_errors_total",
    type: "counter",
    labels: ["code", "route"],
    help: "Requests answered with a 4xx or 5xx status, by route and status code.",
  },
  duration: {
    name: "sut_request_duration_seconds",
    type: "histogram",
    labels: ["route"],
    help: "Time to answer a request, by route.",
    // Dense around 1 s: the HighLatency alert's threshold (p95 > 1 s).
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 1, 1.1, 1.5, 2, 2.5, 5, 10],
  },
  injectedErrors: {
    name: "sut_injected_errors_total",
    type: "counter",
    labels: [],
    help: "Requests answered 500 by the error rate.",
  },
  storageWrites: {
    name: "sut_storage_writes_total",
    type: "counter",
    labels: ["outcome"],
    help: "Storage writes, by outcome.",
  },
  storageBytes: {
    name: "sut_storage_bytes_written_total",
    type: "counter",
    labels: [],
    help: "Bytes written to storage.",
  },
  inflight: {
    name: "sut_inflight_requests",
    type: "gauge",
    labels: [],
    help: "Requests being answered.",
  },
  sessions: {
    name: "sut_sessions",
    type: "gauge",
    labels: [],
    help: "Sessions in the session cache.",
  },
  sessionBytes: {
    name: "sut_session_cache_bytes",
    type: "gauge",
    labels: [],
    help: "Bytes the session cache holds (sessions × session size).",
  },
} as const satisfies Record<string, ExportedMetric>;

/**
 * The Node runtime metrics of the orchestrator's own process, prom-client's collectors
 * (workloads/shared/process-metrics.ts): event-loop lag and GC pauses. With `load_workers: 0` this
 * is the process that generates the HTTP load; worker processes report theirs as
 * `tiers_load_worker_eventloop_lag_*`.
 */
export const RUNTIME_METRICS = {
  nodejs_eventloop_lag_seconds: "gauge",
  nodejs_eventloop_lag_min_seconds: "gauge",
  nodejs_eventloop_lag_max_seconds: "gauge",
  nodejs_eventloop_lag_mean_seconds: "gauge",
  nodejs_eventloop_lag_stddev_seconds: "gauge",
  nodejs_eventloop_lag_p50_seconds: "gauge",
  nodejs_eventloop_lag_p90_seconds: "gauge",
  nodejs_eventloop_lag_p99_seconds: "gauge",
  nodejs_gc_duration_seconds: "histogram",
} as const;

/** The standard process metrics both programs export (counter, gauge, gauge; no labels). */
export const PROCESS_METRICS = [
  "process_cpu_seconds_total",
  "process_resident_memory_bytes",
  "process_start_time_seconds",
] as const;
