import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { CHARTS } from "./charts.js";

/** Where the cluster's Argo CRD release lives (no controller runs there). */
export const ARGO_CRDS_NAMESPACE = "argo-workflows-crds";

/**
 * Argo Workflows' CRDs, once per cluster: the argo-workflows chart with its CRDs (the full schemas,
 * so the API server validates every WorkflowTemplate) and nothing else of it running — no controller
 * replica, no server, no cluster roles, no ClusterWorkflowTemplate kind. Each environment runs its
 * own controller, namespaced, from the same chart (components/environment/workflow.ts).
 */
export function createWorkflowCrds(
  name: string,
  parent: pulumi.Resource,
  provider: k8s.Provider,
  dependsOn: readonly pulumi.Resource[],
): k8s.helm.v3.Release {
  const ns = new k8s.core.v1.Namespace(
    `${name}-argo-crds`,
    {
      metadata: {
        name: ARGO_CRDS_NAMESPACE,
        labels: {
          "app.kubernetes.io/part-of": "test-tiers",
          "pod-security.kubernetes.io/enforce": "restricted",
        },
      },
    },
    { parent, provider, dependsOn: [...dependsOn] },
  );
  const c = CHARTS.argoWorkflows;
  return new k8s.helm.v3.Release(
    `${name}-argo-crds`,
    {
      name: "argo-workflows-crds",
      namespace: ns.metadata.name,
      chart: c.chart,
      version: c.version,
      repositoryOpts: { repo: c.repo },
      values: {
        crds: { install: true, keep: true, full: true },
        singleNamespace: true,
        createAggregateRoles: false,
        controller: { replicas: 0, clusterWorkflowTemplates: { enabled: false } },
        server: { enabled: false, clusterWorkflowTemplates: { enabled: false } },
        workflow: { rbac: { create: false }, serviceAccount: { create: false } },
      },
    },
    { parent, provider },
  );
}
