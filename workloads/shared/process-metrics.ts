import { Counter, Gauge, type Registry } from "prom-client";

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
