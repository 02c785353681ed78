import type * as pulumi from "@pulumi/pulumi";
import type { ClusterMonitoringSettings } from "../../../tiers/monitoring/cluster-settings.js";

/** A Helm chart, its repository and the version it is pinned to (no floating versions). */
export interface PinnedChart {
  readonly chart: string;
  readonly version: string;
  readonly repo: string;
}

export const CHARTS = {
  kubePrometheusStack: {
    chart: "kube-prometheus-stack",
    version: "76.5.1",
    repo: "https://prometheus-community.github.io/helm-charts",
  },
  loki: { chart: "loki", version: "6.16.0", repo: "https://grafana.github.io/helm-charts" },
  promtail: { chart: "promtail", version: "6.16.6", repo: "https://grafana.github.io/helm-charts" },
  tempo: { chart: "tempo", version: "1.10.3", repo: "https://grafana.github.io/helm-charts" },
  otelCollector: {
    chart: "opentelemetry-collector",
    version: "0.108.0",
    repo: "https://open-telemetry.github.io/opentelemetry-helm-charts",
  },
} as const satisfies Record<string, PinnedChart>;

/** kube-prometheus-stack's fullnameOverride: object names are `kps-…` (the Prometheus CR is `kps-prometheus`). */
export const KPS_FULLNAME = "kps";
/** The label our monitors, rules and dashboards carry; Prometheus and Grafana select on it. */
export const SELECT_LABEL = { "app.kubernetes.io/part-of": "test-tiers" } as const;
export const DASHBOARD_LABEL = "grafana_dashboard";

export interface StackValuesInput {
  readonly settings: ClusterMonitoringSettings;
  readonly tier: string;
  readonly region: string;
  readonly cluster: string;
  readonly namespace: string;
  readonly storageClassName?: pulumi.Input<string>;
  /** The Secret holding `admin-user` and `admin-password` for Grafana. */
  readonly grafanaAdminSecret: pulumi.Input<string>;
  /** Primary: accept remote writes. */
  readonly remoteWriteReceiver: boolean;
  /** Secondary and tertiary: the primary's receiver. */
  readonly remoteWriteUrl?: pulumi.Input<string>;
}

/** kube-prometheus-stack's values from the catalog's figures (monitoring.yaml `prometheus`, the tier's storage). */
export function kubePrometheusStackValues(v: StackValuesInput): Record<string, unknown> {
  const s = v.settings;
  const storage = {
    volumeClaimTemplate: {
      spec: {
        accessModes: ["ReadWriteOnce"],
        resources: { requests: { storage: `${s.prometheusStorageGi}Gi` } },
        ...(v.storageClassName !== undefined ? { storageClassName: v.storageClassName } : {}),
      },
    },
  };
  return {
    fullnameOverride: KPS_FULLNAME,
    prometheus: {
      prometheusSpec: {
        scrapeInterval: `${s.scrapeIntervalS}s`,
        evaluationInterval: `${s.scrapeIntervalS}s`,
        retention: `${s.retentionDays}d`,
        externalLabels: { tier: v.tier, region: v.region, cluster: v.cluster },
        storageSpec: storage,
        // Our objects only carry SELECT_LABEL, not the release's label: select on it, in every namespace.
        ruleSelectorNilUsesHelmValues: false,
        serviceMonitorSelectorNilUsesHelmValues: false,
        podMonitorSelectorNilUsesHelmValues: false,
        ruleSelector: { matchLabels: SELECT_LABEL },
        serviceMonitorSelector: { matchLabels: SELECT_LABEL },
        podMonitorSelector: { matchLabels: SELECT_LABEL },
        ruleNamespaceSelector: {},
        serviceMonitorNamespaceSelector: {},
        podMonitorNamespaceSelector: {},
        enableRemoteWriteReceiver: v.remoteWriteReceiver,
        ...(v.remoteWriteUrl !== undefined ? { remoteWrite: [{ url: v.remoteWriteUrl }] } : {}),
      },
    },
    grafana: {
      admin: { existingSecret: v.grafanaAdminSecret, userKey: "admin-user", passwordKey: "admin-password" },
      sidecar: {
        dashboards: {
          enabled: true,
          label: DASHBOARD_LABEL,
          labelValue: "1",
          searchNamespace: v.namespace,
        },
      },
      additionalDataSources: [
        { name: "Loki", type: "loki", uid: "loki", url: `http://loki.${v.namespace}.svc.cluster.local:3100` },
        {
          name: "Tempo",
          type: "tempo",
          uid: "tempo",
          url: `http://tempo.${v.namespace}.svc.cluster.local:3100`,
        },
      ],
    },
    // Our rules stand on their own; the chart's defaults stay on for the cluster itself.
    defaultRules: { create: true },
  };
}

/** Loki as one binary on a filesystem PVC, keeping logs for the catalog's retention (7 d). */
export function lokiValues(s: ClusterMonitoringSettings): Record<string, unknown> {
  return {
    deploymentMode: "SingleBinary",
    loki: {
      auth_enabled: false,
      commonConfig: { replication_factor: 1 },
      storage: { type: "filesystem" },
      schemaConfig: {
        configs: [
          {
            from: "2024-01-01",
            store: "tsdb",
            object_store: "filesystem",
            schema: "v13",
            index: { prefix: "index_", period: "24h" },
          },
        ],
      },
      limits_config: { retention_period: `${s.logRetentionDays * 24}h` },
      compactor: { retention_enabled: true, delete_request_store: "filesystem" },
    },
    singleBinary: { replicas: 1, persistence: { size: `${s.lokiStorageGi}Gi` } },
    read: { replicas: 0 },
    write: { replicas: 0 },
    backend: { replicas: 0 },
    gateway: { enabled: false },
    chunksCache: { enabled: false },
    resultsCache: { enabled: false },
  };
}

/** Promtail on every node, shipping every pod's log to Loki. */
export function promtailValues(namespace: string): Record<string, unknown> {
  return {
    config: { clients: [{ url: `http://loki.${namespace}.svc.cluster.local:3100/loki/api/v1/push` }] },
  };
}

/** Tempo (single binary) receiving OTLP, keeping traces as long as logs. */
export function tempoValues(s: ClusterMonitoringSettings): Record<string, unknown> {
  return {
    tempo: {
      retention: `${s.logRetentionDays * 24}h`,
      receivers: {
        otlp: { protocols: { grpc: { endpoint: "0.0.0.0:4317" }, http: { endpoint: "0.0.0.0:4318" } } },
      },
    },
    persistence: { enabled: true, size: "10Gi" },
  };
}

/** An OpenTelemetry collector the orchestrators send OTLP to; it forwards traces to Tempo. */
export function otelCollectorValues(namespace: string): Record<string, unknown> {
  return {
    mode: "deployment",
    image: { repository: "otel/opentelemetry-collector-contrib" },
    config: {
      exporters: {
        otlp: { endpoint: `tempo.${namespace}.svc.cluster.local:4317`, tls: { insecure: true } },
      },
      service: {
        pipelines: { traces: { receivers: ["otlp"], processors: ["batch"], exporters: ["otlp"] } },
      },
    },
  };
}
