import type { Condition } from "../schema/catalog.js";

/**
 * Where the SUT's replica availability comes from: `scrape` is the share of the environment's SUT
 * scrape targets that are up (the local target: one SUT process per environment); on a cluster
 * `kube-state-metrics` compares the SUT Deployment's available replicas with its desired ones.
 */
export const AVAILABILITY_SOURCES = ["scrape", "kube-state-metrics"] as const;
export type AvailabilitySource = (typeof AVAILABILITY_SOURCES)[number];

/** One of the catalog's abstract metrics, as a Prometheus recording rule over exported series. */
export interface Signal {
  /** The recording rule's name (`level:metric:operations`, Prometheus' naming convention). */
  readonly record: string;
  /** Its expression, per availability source where that matters. */
  readonly expr: (source: AvailabilitySource) => string;
  /** The unit the recorded series is in, and how a catalog value in `unit` converts to it. */
  readonly unit: "percent" | "ratio" | "seconds";
  readonly help: string;
}

/**
 * The catalog's alert metrics (monitoring.yaml `alerts[].condition.metric`) over what the
 * orchestrator and the SUT export (workloads/orchestrator/api/metrics.ts, workloads/sut/server.ts).
 * Latency and error rate are the phase load's view (what a client of the SUT sees, faults included:
 * a killed or partitioned SUT answers nothing, so its own counters cannot show the failures).
 */
export const SIGNALS: Readonly<Record<string, Signal>> = {
  cpu_usage: {
    record: "environment:tiers_sut_cpu:percent",
    expr: () => "max by (environment) (tiers_sut_cpu_percent)",
    unit: "percent",
    help: "the SUT's CPU use in percent of its allocation",
  },
  memory_usage: {
    record: "environment:tiers_sut_memory:percent",
    expr: () => "max by (environment) (tiers_sut_memory_percent)",
    unit: "percent",
    help: "the SUT's resident memory in percent of its allocation",
  },
  error_rate: {
    record: "environment:tiers_load_errors:ratio",
    expr: () => "max by (environment) (tiers_load_error_ratio)",
    unit: "ratio",
    help: "the share of the phase load's requests that failed",
  },
  p95_latency: {
    record: "environment:tiers_load_latency_p95:seconds",
    expr: () => "max by (environment) (tiers_load_p95_seconds)",
    unit: "seconds",
    help: "the phase load's p95 latency",
  },
  available_experts: {
    record: "environment:tiers_sut_replicas_available:percent",
    expr: (source) =>
      source === "scrape"
        ? `100 * avg by (environment) (up{component="sut"})`
        : `100 * sum by (environment) (label_replace(kube_deployment_status_replicas_available{deployment="sut"}, "environment", "$1", "namespace", "tiers-(.+)"))` +
          ` / sum by (environment) (label_replace(kube_deployment_spec_replicas{deployment="sut"}, "environment", "$1", "namespace", "tiers-(.+)"))`,
    unit: "percent",
    help: "the share of the SUT's replicas that are available",
  },
};

/** A catalog condition's threshold in the unit of its signal; undefined when they do not convert. */
export function thresholdIn(signal: Signal, c: Condition): number | undefined {
  if (signal.unit === "percent")
    return c.unit === "percent" ? c.value : c.unit === "ratio" ? c.value * 100 : undefined;
  if (signal.unit === "ratio")
    return c.unit === "percent" ? c.value / 100 : c.unit === "ratio" ? c.value : undefined;
  if (c.unit === "s") return c.value;
  if (c.unit === "ms") return c.value / 1000;
  return undefined;
}
