import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { loadCatalog } from "../../tiers/catalog.js";
import { LOAD_WORKER_RESOURCES, maxLoadWorkers } from "../../tiers/infra/load-job.js";
import type { Resources } from "../../tiers/infra/sizing.js";
import type { WorkloadSizes } from "../../tiers/infra/workload-sizing.js";
import type { CyclePlan } from "../../tiers/plan/schema.js";
import type { Children } from "../shared/children.js";
import { ARGO_POD_LABEL } from "../../tiers/workflow/argo.js";
import { CHARTS } from "../platform/charts.js";
import { restrictedContainerSecurity, restrictedPodSecurity } from "./pod-security.js";
import {
  environmentWorkflowTemplate,
  WORKFLOW_SERVICE_ACCOUNT,
  type StepEnvironment,
} from "./workflow-options.js";

/** The environment's Argo controller: small, it only watches this namespace's workflows. */
export const ARGO_CONTROLLER_RESOURCES = {
  requests: { cpu: "100m", memory: "128Mi" },
  limits: { cpu: "500m", memory: "512Mi" },
} as const;
/** Argo's init and wait containers beside every step. */
export const ARGO_EXECUTOR_RESOURCES = {
  requests: { cpu: "50m", memory: "64Mi" },
  limits: { cpu: "250m", memory: "256Mi" },
} as const;

/**
 * The environment's own Argo Workflows controller, namespaced (`singleNamespace`: Roles, not
 * ClusterRoles; the controller started with `--namespaced`), with no server, no cluster-wide
 * templates and no CRDs (the platform installs those once per cluster), and the ServiceAccount its
 * workflows run as.
 */
export function createWorkflowController(
  c: Children,
  namespace: pulumi.Output<string>,
  dependsOn: readonly pulumi.Resource[],
): k8s.helm.v3.Release {
  const chart = CHARTS.argoWorkflows;
  const pod = restrictedPodSecurity();
  const container = restrictedContainerSecurity();
  return new k8s.helm.v3.Release(
    c.name("argo-workflows"),
    {
      name: "argo-workflows",
      namespace,
      chart: chart.chart,
      version: chart.version,
      repositoryOpts: { repo: chart.repo },
      values: {
        crds: { install: false },
        singleNamespace: true,
        createAggregateRoles: false,
        images: { pullPolicy: "IfNotPresent" },
        controller: {
          clusterWorkflowTemplates: { enabled: false },
          resources: ARGO_CONTROLLER_RESOURCES,
          podSecurityContext: pod,
          securityContext: container,
          workflowDefaults: { spec: { serviceAccountName: WORKFLOW_SERVICE_ACCOUNT } },
          // Its egress to the API server (network-policies.ts, allow-argo-kube-api).
          podLabels: { [ARGO_POD_LABEL]: "controller" },
        },
        server: { enabled: false, clusterWorkflowTemplates: { enabled: false } },
        executor: { resources: ARGO_EXECUTOR_RESOURCES, securityContext: container },
        workflow: {
          serviceAccount: { create: true, name: WORKFLOW_SERVICE_ACCOUNT },
          rbac: { create: true },
        },
      },
    },
    c.opts({ dependsOn: [...dependsOn] }),
  );
}

/** The plan's cycle for this environment as a WorkflowTemplate, applied once its controller (and the CRDs) exist. */
export function createWorkflowTemplate(
  c: Children,
  planJson: string,
  steps: Omit<StepEnvironment, "namespace"> & { readonly namespace: pulumi.Output<string> },
  dependsOn: readonly pulumi.Resource[],
): k8s.apiextensions.CustomResource {
  const plan = JSON.parse(planJson) as CyclePlan;
  return new k8s.apiextensions.CustomResource(
    c.name("workflow-template"),
    {
      ...environmentWorkflowTemplate(plan, { ...steps, namespace: "" }),
      metadata: {
        name: `cycle-${steps.environment}`,
        namespace: steps.namespace,
        ...(steps.labels ? { labels: { ...steps.labels } } : {}),
      },
    },
    c.opts({ dependsOn: [...dependsOn] }),
  );
}

/**
 * How the environment's quota is shared once the orchestrator, the iperf3 server and the SUT at its
 * minimum replicas have theirs: half of what is left is the load Jobs' (`loadWorkers` pods of
 * LOAD_WORKER_RESOURCES; all of it when half holds no worker), the rest the SUT's HPA may grow into
 * (`sutMax`, at least its minimum). Limits, not requests, so that everything at its maximum at
 * once still fits. `loadWorkers` 0: no worker pod fits, the orchestrator generates the load itself.
 */
export function environmentCapacity(
  quota: Resources,
  sizes: WorkloadSizes,
  minReplicas: number,
): { readonly sutMax: number; readonly loadWorkers: number } {
  const left = {
    cpu: Math.max(
      0,
      quota.cpu_millis -
        sizes.orchestrator.limits.cpu_millis -
        sizes.iperf3.limits.cpu_millis -
        minReplicas * sizes.sut.limits.cpu_millis,
    ),
    memory: Math.max(
      0,
      quota.memory_bytes -
        sizes.orchestrator.limits.memory_bytes -
        sizes.iperf3.limits.memory_bytes -
        minReplicas * sizes.sut.limits.memory_bytes,
    ),
  };
  const loadWorkers = maxLoadWorkers(left.cpu / 2, left.memory / 2) || maxLoadWorkers(left.cpu, left.memory);
  const w = LOAD_WORKER_RESOURCES.limits;
  const rest = {
    cpu: Math.max(0, left.cpu - loadWorkers * w.cpu_millis),
    memory: Math.max(0, left.memory - loadWorkers * w.memory_bytes),
  };
  const more = Math.min(
    Math.floor(rest.cpu / sizes.sut.limits.cpu_millis),
    Math.floor(rest.memory / sizes.sut.limits.memory_bytes),
  );
  return { sutMax: minReplicas + more, loadWorkers };
}

/**
 * The SUT's HorizontalPodAutoscaler with seed 001's figures (catalog `autoscaling.horizontal`):
 * CPU and memory utilisation targets; up by `increment` pods at most per cooldown, stabilised over
 * the cooldown; down by `decrement` the same way. The seed's request-rate target needs a custom
 * metrics adapter and is not set (README).
 */
export function createSutAutoscaler(
  c: Children,
  meta: { name: string; namespace: pulumi.Output<string>; labels: Record<string, string> },
  deployment: k8s.apps.v1.Deployment,
  replicas: { readonly min: number; readonly max: number },
): k8s.autoscaling.v2.HorizontalPodAutoscaler {
  const h = loadCatalog().monitoring.autoscaling.horizontal;
  return new k8s.autoscaling.v2.HorizontalPodAutoscaler(
    c.name("sut"),
    {
      metadata: meta,
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: deployment.metadata.name },
        minReplicas: replicas.min,
        maxReplicas: replicas.max,
        metrics: [
          {
            type: "Resource",
            resource: {
              name: "cpu",
              target: { type: "Utilization", averageUtilization: h.targets.cpu_utilization_pct },
            },
          },
          {
            type: "Resource",
            resource: {
              name: "memory",
              target: { type: "Utilization", averageUtilization: h.targets.memory_utilization_pct },
            },
          },
        ],
        behavior: {
          scaleUp: {
            stabilizationWindowSeconds: h.scale_up.cooldown_s,
            selectPolicy: "Max",
            policies: [{ type: "Pods", value: h.scale_up.increment, periodSeconds: h.scale_up.cooldown_s }],
          },
          scaleDown: {
            stabilizationWindowSeconds: h.scale_down.cooldown_s,
            selectPolicy: "Max",
            policies: [
              { type: "Pods", value: h.scale_down.decrement, periodSeconds: h.scale_down.cooldown_s },
            ],
          },
        },
      },
    },
    c.opts(),
  );
}
