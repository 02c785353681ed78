import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { CHARTS } from "./charts.js";

/**
 * metrics-server, once per cluster (EKS: a cluster has none of its own): the resource metrics
 * (`metrics.k8s.io`) every environment's HorizontalPodAutoscaler reads. A kubeconfig cluster brings
 * its own (k3s, kind with the add-on, managed clusters).
 */
export function createMetricsServer(
  name: string,
  parent: pulumi.Resource,
  provider: k8s.Provider,
  dependsOn: readonly pulumi.Resource[],
): k8s.helm.v3.Release {
  const c = CHARTS.metricsServer;
  return new k8s.helm.v3.Release(
    `${name}-metrics-server`,
    {
      name: "metrics-server",
      namespace: "kube-system",
      chart: c.chart,
      version: c.version,
      repositoryOpts: { repo: c.repo },
      values: {
        replicas: 2,
        resources: { requests: { cpu: "100m", memory: "200Mi" }, limits: { cpu: "500m", memory: "400Mi" } },
      },
    },
    { parent, provider, dependsOn: [...dependsOn] },
  );
}
