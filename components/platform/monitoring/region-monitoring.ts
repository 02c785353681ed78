import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { ClusterMonitoringSettings } from "../../../tiers/monitoring/cluster-settings.js";
import { childrenOf } from "../../shared/children.js";
import type { PlatformEnvironment } from "../region-platform.js";
import {
  CHARTS,
  DASHBOARD_LABEL,
  KPS_FULLNAME,
  SELECT_LABEL,
  kubePrometheusStackValues,
  lokiValues,
  otelCollectorValues,
  promtailValues,
  tempoValues,
  type PinnedChart,
} from "./charts.js";

export const REGION_MONITORING_TYPE = "tiers:platform:RegionMonitoring";
export const MONITORING_NAMESPACE = "monitoring";
/** Prometheus' port: its API, and the remote-write receiver on the primary. */
export const PROMETHEUS_PORT = 9090;

export interface RegionMonitoringArgs {
  readonly tier: string;
  readonly region: string;
  /** The cluster's name (external label `cluster`). */
  readonly cluster: string;
  readonly settings: ClusterMonitoringSettings;
  /** The region's environments: one ServiceMonitor each, for its orchestrator and SUT. */
  readonly environments: readonly PlatformEnvironment[];
  /**
   * `receiver`: the primary of a multi-region tier, whose Prometheus accepts remote writes behind an
   * internal load balancer; `sender`: a secondary or tertiary, writing to `remoteWriteUrl`.
   * @default "standalone"
   */
  readonly federation?: "standalone" | "receiver" | "sender";
  readonly remoteWriteUrl?: pulumi.Input<string>;
  /**
   * Receiver only: the CIDRs the remote writes come from (the senders' VPCs, over the peering).
   * The load balancer's listener on 9090 is opened to these and nothing else
   * (`loadBalancerSourceRanges`: the AWS controller turns them into the nodes' security group rules).
   */
  readonly remoteWriteSources?: readonly pulumi.Input<string>[];
  readonly storageClassName?: pulumi.Input<string>;
  readonly dependsOn?: readonly pulumi.Resource[];
}

export interface RegionMonitoringOutputs {
  readonly namespace: pulumi.Output<string>;
  /** kube-prometheus-stack's release (installs the prometheus-operator CRDs). */
  readonly release: k8s.helm.v3.Release;
  /** The primary's remote-write URL, reachable over the peering (receiver only). */
  readonly remoteWriteUrl?: pulumi.Output<string>;
}

/**
 * A region's monitoring stack in the `monitoring` namespace: kube-prometheus-stack (Prometheus,
 * Alertmanager, Grafana, node-exporter, kube-state-metrics) with the catalog's scrape interval,
 * retention, storage and external labels; the generated rules as a PrometheusRule; the generated
 * dashboards as sidecar ConfigMaps; a ServiceMonitor per environment; Loki with Promtail for logs;
 * Tempo with an OpenTelemetry collector for traces.
 */
export class RegionMonitoring extends pulumi.ComponentResource implements RegionMonitoringOutputs {
  public readonly namespace: pulumi.Output<string>;
  public readonly release: k8s.helm.v3.Release;
  public readonly remoteWriteUrl?: pulumi.Output<string>;

  constructor(
    name: string,
    args: RegionMonitoringArgs,
    providers: { readonly kubernetes: k8s.Provider; readonly random: random.Provider },
    opts: pulumi.ComponentResourceOptions = {},
  ) {
    validateRegionMonitoringArgs(name, args);
    super(REGION_MONITORING_TYPE, name, {}, opts);
    const out = createRegionMonitoring(name, args, this, providers);
    this.namespace = out.namespace;
    this.release = out.release;
    if (out.remoteWriteUrl) this.remoteWriteUrl = out.remoteWriteUrl;
    this.registerOutputs({
      namespace: this.namespace,
      ...(out.remoteWriteUrl ? { remoteWriteUrl: out.remoteWriteUrl } : {}),
    });
  }
}

export function validateRegionMonitoringArgs(name: string, args: RegionMonitoringArgs): void {
  if (args.federation !== "receiver" && args.remoteWriteSources !== undefined) {
    throw new pulumi.RunError(
      `RegionMonitoring ${name}: remoteWriteSources is for the receiver (federation "receiver"); got federation ${JSON.stringify(args.federation ?? "standalone")}`,
    );
  }
  if (args.federation === "sender" && args.remoteWriteUrl === undefined) {
    throw new pulumi.RunError(
      `RegionMonitoring ${name}: federation "sender" needs remoteWriteUrl (the primary's receiver); got none`,
    );
  }
}

export function createRegionMonitoring(
  name: string,
  args: RegionMonitoringArgs,
  parent: pulumi.Resource,
  providers: { readonly kubernetes: k8s.Provider; readonly random: random.Provider },
): RegionMonitoringOutputs {
  const c = childrenOf(parent, name, providers.kubernetes);
  const labels = { ...SELECT_LABEL, "app.kubernetes.io/managed-by": "pulumi" };
  const ns = new k8s.core.v1.Namespace(
    c.name("monitoring-ns"),
    {
      metadata: {
        name: MONITORING_NAMESPACE,
        labels: {
          ...labels,
          // node-exporter needs hostNetwork, hostPID and hostPath mounts, and Promtail reads the
          // nodes' log directories: only "privileged" admits them. This namespace alone is not
          // restricted (the policy pack's exempt list names it); environments stay restricted.
          "pod-security.kubernetes.io/enforce": "privileged",
          "pod-security.kubernetes.io/enforce-version": "latest",
          "pod-security.kubernetes.io/warn": "privileged",
          "pod-security.kubernetes.io/audit": "privileged",
        },
      },
    },
    c.opts({ dependsOn: [...(args.dependsOn ?? [])] }),
  );
  const namespace = ns.metadata.name;

  const password = new random.RandomPassword(
    c.name("grafana-admin"),
    { length: 32, special: false },
    c.optsWith(providers.random),
  );
  const adminSecret = new k8s.core.v1.Secret(
    c.name("grafana-admin"),
    {
      metadata: { name: "grafana-admin", namespace, labels },
      type: "Opaque",
      stringData: { "admin-user": "admin", "admin-password": password.result },
    },
    c.opts(),
  );

  const release = (
    suffix: string,
    pinned: PinnedChart,
    values: Record<string, unknown>,
    extra: pulumi.Resource[] = [],
  ) =>
    new k8s.helm.v3.Release(
      c.name(suffix),
      {
        name: suffix,
        chart: pinned.chart,
        version: pinned.version,
        repositoryOpts: { repo: pinned.repo },
        namespace,
        values,
        atomic: true,
        timeout: 900,
      },
      c.opts({ dependsOn: [ns, ...extra] }),
    );

  const federation = args.federation ?? "standalone";
  const kps = release(
    KPS_FULLNAME,
    CHARTS.kubePrometheusStack,
    kubePrometheusStackValues({
      settings: args.settings,
      tier: args.tier,
      region: args.region,
      cluster: args.cluster,
      namespace: MONITORING_NAMESPACE,
      grafanaAdminSecret: adminSecret.metadata.name,
      remoteWriteReceiver: federation === "receiver",
      ...(args.remoteWriteUrl !== undefined ? { remoteWriteUrl: args.remoteWriteUrl } : {}),
      ...(args.storageClassName !== undefined ? { storageClassName: args.storageClassName } : {}),
    }),
    [adminSecret],
  );
  const loki = release("loki", CHARTS.loki, lokiValues(args.settings));
  release("promtail", CHARTS.promtail, promtailValues(MONITORING_NAMESPACE), [loki]);
  const tempo = release("tempo", CHARTS.tempo, tempoValues(args.settings));
  release("otel-collector", CHARTS.otelCollector, otelCollectorValues(MONITORING_NAMESPACE), [tempo]);

  // Custom resources wait for the release that installs their CRDs.
  new k8s.apiextensions.CustomResource(
    c.name("rules"),
    {
      apiVersion: "monitoring.coreos.com/v1",
      kind: "PrometheusRule",
      metadata: { name: "test-tiers", namespace, labels },
      spec: { groups: args.settings.ruleGroups },
    },
    c.opts({ dependsOn: [kps] }),
  );
  for (const env of args.environments) {
    new k8s.apiextensions.CustomResource(
      c.name(`monitor-${env.id}`),
      {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "ServiceMonitor",
        metadata: {
          name: `env-${env.id}`,
          namespace,
          labels: { ...labels, "test-tiers/environment": env.id },
        },
        spec: {
          namespaceSelector: { matchNames: [env.namespace] },
          selector: {
            matchExpressions: [
              { key: "app.kubernetes.io/name", operator: "In", values: ["orchestrator", "sut"] },
            ],
          },
          endpoints: [
            {
              port: "http",
              path: "/metrics",
              scheme: "http",
              interval: `${args.settings.scrapeIntervalS}s`,
              relabelings: [
                {
                  action: "replace",
                  sourceLabels: ["__meta_kubernetes_namespace"],
                  regex: "tiers-(.+)",
                  replacement: "$1",
                  targetLabel: "environment",
                },
                {
                  action: "replace",
                  sourceLabels: ["__meta_kubernetes_service_label_app_kubernetes_io_name"],
                  targetLabel: "component",
                },
              ],
            },
          ],
        },
      },
      c.opts({ dependsOn: [kps] }),
    );
  }
  for (const [file, dashboard] of Object.entries(args.settings.dashboards)) {
    new k8s.core.v1.ConfigMap(
      c.name(`dashboard-${file}`),
      {
        metadata: { name: file, namespace, labels: { ...labels, [DASHBOARD_LABEL]: "1" } },
        data: { [`${file}.json`]: JSON.stringify(dashboard) },
      },
      c.opts(),
    );
  }

  let remoteWriteUrl: pulumi.Output<string> | undefined;
  if (federation === "receiver") {
    // The primary's Prometheus behind an internal NLB: reachable from the peered VPCs, not the internet.
    const receiver = new k8s.core.v1.Service(
      c.name("remote-write"),
      {
        metadata: {
          name: "prometheus-remote-write",
          namespace,
          labels,
          annotations: {
            "service.beta.kubernetes.io/aws-load-balancer-type": "nlb",
            "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
            "service.beta.kubernetes.io/aws-load-balancer-internal": "true",
          },
        },
        spec: {
          type: "LoadBalancer",
          selector: {
            "app.kubernetes.io/name": "prometheus",
            "operator.prometheus.io/name": `${KPS_FULLNAME}-prometheus`,
          },
          ports: [{ name: "http", port: PROMETHEUS_PORT, targetPort: PROMETHEUS_PORT, protocol: "TCP" }],
          // Open to the senders' VPCs only (without it the listener is open to the whole VPC, and
          // the peered regions' traffic is not let in by the nodes' security group).
          ...(args.remoteWriteSources && args.remoteWriteSources.length > 0
            ? { loadBalancerSourceRanges: [...args.remoteWriteSources] }
            : {}),
        },
      },
      c.opts({ dependsOn: [kps] }),
    );
    remoteWriteUrl = receiver.status.apply((s) => {
      const ingress = s?.loadBalancer?.ingress?.[0];
      const host = ingress?.hostname ?? ingress?.ip;
      return `http://${host ?? "pending"}:${PROMETHEUS_PORT}/api/v1/write`;
    });
  }
  return { namespace, release: kps, ...(remoteWriteUrl ? { remoteWriteUrl } : {}) };
}
