import { collectDefaultMetrics, Counter, Gauge, Registry, type Metric } from "prom-client";
import { RUNTIME_METRICS } from "./metric-names.js";

/**
 * The standard process metrics (`process_cpu_seconds_total`, `process_resident_memory_bytes`,
 * `process_start_time_seconds`, no labels), read when scraped. Not prom-client's
 * `collectDefaultMetrics`: that one also exports `nodejs_active_handles_total` and the like, gauges
 * whose `_total` suffix `promtool check metrics` refuses, and costs more per scrape.
 */
export function registerProcessMetrics(registry: Registry): void {
  const registers = [registry];
  new Counter({
    name: "process_cpu_seconds_total",
    help: "Total user and system CPU time spent in seconds.",
    registers,
    collect() {
      const u = process.cpuUsage();
      this.reset();
      this.inc((u.user + u.system) / 1e6);
    },
  });
  new Gauge({
    name: "process_resident_memory_bytes",
    help: "Resident memory size in bytes.",
    registers,
    collect() {
      this.set(process.memoryUsage.rss());
    },
  });
  const started = Math.round(Date.now() / 1000 - process.uptime());
  new Gauge({
    name: "process_start_time_seconds",
    help: "Start time of the process since unix epoch in seconds.",
    registers,
    collect() {
      this.set(started);
    },
  });
}

let runtimeMetrics: Metric[] | undefined;

/**
 * prom-client's event-loop lag (`nodejs_eventloop_lag_*`, from `perf_hooks.monitorEventLoopDelay`
 * at 10 ms) and GC (`nodejs_gc_duration_seconds{kind}`, a `PerformanceObserver`) collectors, and no
 * other of `collectDefaultMetrics`' series (see `registerProcessMetrics`). They are made once per
 * process, on a registry of their own, and these metric objects are registered in every registry
 * asking for them: one monitor and one GC observer per process however many registries (tests run
 * several environments in one process), since they measure the process, not an environment.
 */
export function registerRuntimeMetrics(registry: Registry): void {
  runtimeMetrics ??= (() => {
    const own = new Registry();
    collectDefaultMetrics({ register: own, eventLoopMonitoringPrecision: 10 });
    return Object.keys(RUNTIME_METRICS).map((name) => {
      const metric = own.getSingleMetric(name);
      if (!metric) throw new Error(`prom-client has no default metric ${name}`);
      return metric;
    });
  })();
  for (const metric of runtimeMetrics) registry.registerMetric(metric);
}
