import type { Catalog } from "../catalog.js";
import type { TierName } from "../schema/names.js";
import { generateDashboards, type GrafanaDashboard } from "./dashboards.js";
import { generateRules, type RuleGroup } from "./rules.js";

/** What a region's monitoring stack takes from the catalog (monitoring.yaml, tiers.yaml). Pure data. */
export interface ClusterMonitoringSettings {
  readonly scrapeIntervalS: number;
  readonly retentionDays: number;
  /** Whether secondary regions send their series to the primary (seed 001 "federation"). */
  readonly federation: boolean;
  /** Prometheus' PVC: a twentieth of one node's storage in the tier, at least 20 GiB. */
  readonly prometheusStorageGi: number;
  readonly logRetentionDays: number;
  /** Loki's PVC: a fiftieth of one node's storage, at least 10 GiB. */
  readonly lokiStorageGi: number;
  /** The rules with availability from kube-state-metrics (the SUT is a Deployment). */
  readonly ruleGroups: readonly RuleGroup[];
  readonly dashboards: Readonly<Record<string, GrafanaDashboard>>;
}

export function clusterMonitoringSettings(catalog: Catalog, tier: TierName): ClusterMonitoringSettings {
  const m = catalog.monitoring;
  const nodeGb = catalog.tiers[tier].compute.storage_gb;
  return {
    scrapeIntervalS: m.prometheus.scrape_interval_s,
    retentionDays: m.prometheus.retention_days,
    federation: m.prometheus.federation,
    prometheusStorageGi: Math.max(20, Math.ceil(nodeGb / 20)),
    logRetentionDays: m.logging.retention_days,
    lokiStorageGi: Math.max(10, Math.ceil(nodeGb / 50)),
    ruleGroups: generateRules(m, { availability: "kube-state-metrics" }).groups,
    dashboards: generateDashboards(m),
  };
}
