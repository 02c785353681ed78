import type { CycleEnd } from "../controller/cycle-controller.js";
import type { CycleProgress } from "../controller/progress.js";
import type { EnvStore } from "../storage/env-store.js";
import { renderPrometheus, type MetricFamily } from "./prometheus.js";

export interface MetricsInput {
  readonly environment: string;
  readonly running: CycleProgress | undefined;
  readonly lastEnd: CycleEnd | undefined;
  readonly store: EnvStore;
}

/**
 * The orchestrator's own metrics (scraped by the environment's monitoring): seed 001's
 * `stress_phase_progression` per phase of the running cycle, the latest load and SUT figures,
 * results by status, and the process's own CPU and memory.
 */
export function orchestratorMetrics(input: MetricsInput): string {
  const env = { environment: input.environment };
  const p = input.running;
  const families: MetricFamily[] = [
    {
      name: "stress_phase_progression",
      help: "Fraction of each phase's planned time that has passed in the running cycle (1 = done).",
      type: "gauge",
      samples: p
        ? p.phases.map((ph) => ({
            labels: { ...env, cycle: p.cycleId, phase: ph.name },
            value: p.progression(ph.name),
          }))
        : [],
    },
    {
      name: "tiers_cycle_running",
      help: "1 while a cycle runs in this environment.",
      type: "gauge",
      samples: [{ labels: env, value: p ? 1 : 0 }],
    },
    {
      name: "tiers_cycle_last_passed",
      help: "1 when the last finished cycle passed every gate, 0 when it did not; absent before the first.",
      type: "gauge",
      samples: input.lastEnd
        ? [
            {
              labels: { ...env, cycle: input.lastEnd.cycleId },
              value: input.lastEnd.verdict === "passed" ? 1 : 0,
            },
          ]
        : [],
    },
    {
      name: "tiers_load_rps",
      help: "Requests per second the phase load achieved in its latest second.",
      type: "gauge",
      samples: p?.latest.rps != null ? [{ labels: env, value: p.latest.rps }] : [],
    },
    {
      name: "tiers_load_p99_seconds",
      help: "p99 latency of the phase load's latest second.",
      type: "gauge",
      samples: p?.latest.p99_ms != null ? [{ labels: env, value: p.latest.p99_ms / 1000 }] : [],
    },
    {
      name: "tiers_load_p95_seconds",
      help: "p95 latency of the phase load's latest second.",
      type: "gauge",
      samples: p?.latest.p95_ms != null ? [{ labels: env, value: p.latest.p95_ms / 1000 }] : [],
    },
    {
      name: "tiers_load_error_ratio",
      help: "Share of the phase load's requests in its latest second that failed (connection error or non-2xx), 0..1.",
      type: "gauge",
      samples: p?.latest.error_ratio != null ? [{ labels: env, value: p.latest.error_ratio }] : [],
    },
    {
      name: "tiers_sut_memory_percent",
      help: "The SUT's resident memory in percent of its allocation, latest sample.",
      type: "gauge",
      samples:
        p?.latest.rss_bytes != null
          ? [{ labels: env, value: (p.latest.rss_bytes / p.environment.resources.memory_bytes) * 100 }]
          : [],
    },
    {
      name: "tiers_sut_cpu_percent",
      help: "The SUT's CPU use in percent of its allocation, latest sample.",
      type: "gauge",
      samples: p?.latest.cpu_pct != null ? [{ labels: env, value: p.latest.cpu_pct }] : [],
    },
    {
      name: "tiers_results_total",
      help: "Results committed by the running cycle, by status.",
      type: "counter",
      samples: p
        ? Object.entries(p.results).map(([status, n]) => ({ labels: { ...env, status }, value: n }))
        : [],
    },
    {
      name: "process_cpu_seconds_total",
      help: "CPU time the orchestrator process used.",
      type: "counter",
      samples: [{ value: (process.cpuUsage().user + process.cpuUsage().system) / 1e6 }],
    },
    {
      name: "process_resident_memory_bytes",
      help: "Resident memory of the orchestrator process.",
      type: "gauge",
      samples: [{ value: process.memoryUsage.rss() }],
    },
    {
      name: "tiers_cycles_total",
      help: "Cycles this environment's store holds.",
      type: "gauge",
      samples: [{ labels: env, value: input.store.listCycles().length }],
    },
  ];
  return renderPrometheus(families);
}
