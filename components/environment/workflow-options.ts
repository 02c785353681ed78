/**
 * What the environment's WorkflowTemplate needs of the cluster: the step pods' environment,
 * volumes, identity and placement. Pure (no Pulumi at run time), so `tiers plan --workflow` prints
 * exactly the template the environment component applies.
 */
import { LOAD_WORKER_CAPACITY_RPS, LOAD_WORKER_SERVICE_ACCOUNT } from "../../tiers/infra/load-job.js";
import { ORCHESTRATOR_RESOURCES } from "../../tiers/infra/workload-sizing.js";
import type { CyclePlan } from "../../tiers/plan/schema.js";
import { renderWorkflowTemplate, type EnvVar, type WorkflowTemplateBody } from "../../tiers/workflow/argo.js";
import { resourceRequirements, restrictedContainerSecurity, restrictedPodSecurity } from "./pod-security.js";

/** The ServiceAccount the chart creates for the environment's workflows (`workflow.serviceAccount`). */
export const WORKFLOW_SERVICE_ACCOUNT = "argo-workflow";
/** Fixed object names of the environment (workloads.ts, credentials.ts, isolated-environment.ts). */
export const STEP_OBJECTS = {
  sutService: "sut",
  iperf3Service: "iperf3",
  configMap: "orchestrator-config",
  dataClaim: "orchestrator-data",
  signingSecret: "bundle-signing-key",
} as const;

/**
 * What makes the orchestrator run every stretch of its load as an Indexed Job of `image`'s
 * load-worker (workloads/orchestrator/config.ts): at most `maxWorkers` pods, each planned for
 * LOAD_WORKER_CAPACITY_RPS, running as the load-worker ServiceAccount. The orchestrator's Deployment
 * (isolated-environment.ts) and the workflow's load steps get the same variables.
 */
export function loadJobEnv(image: string, maxWorkers: number): EnvVar[] {
  return [
    { name: "TIERS_LOAD_JOB_IMAGE", value: image },
    { name: "TIERS_LOAD_JOB_MAX_WORKERS", value: String(maxWorkers) },
    { name: "TIERS_LOAD_WORKER_CAPACITY_RPS", value: String(LOAD_WORKER_CAPACITY_RPS) },
    { name: "TIERS_LOAD_WORKER_SERVICE_ACCOUNT", value: LOAD_WORKER_SERVICE_ACCOUNT },
  ];
}

export interface StepEnvironment {
  readonly image: string;
  readonly environment: string;
  readonly tier: string;
  readonly region: string;
  readonly namespace?: string;
  readonly sutPort: number;
  readonly iperf3Port: number;
  /** EKS: the bundles' region (AWS_REGION), as the orchestrator gets it. */
  readonly bundlesRegion?: string;
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * The load Jobs' pods the quota keeps (environmentCapacity's `loadWorkers`, the orchestrator's
   * TIERS_LOAD_JOB_MAX_WORKERS). Above 0, the load steps run their load as Jobs of `image` and mount
   * the ServiceAccount's token; unset or 0 (no worker pod fits), they generate it in their own pod.
   */
  readonly loadJobWorkers?: number;
}

/** The WorkflowTemplate of one environment, as applied to its namespace. */
export function environmentWorkflowTemplate(plan: CyclePlan, s: StepEnvironment): WorkflowTemplateBody {
  const faults = plan.environments
    .find((e) => e.id === s.environment)
    ?.phases.some((p) => p.faults.length > 0);
  return renderWorkflowTemplate(plan, s.environment, {
    image: s.image,
    planPath: "/etc/tiers/plan.json",
    ...(s.namespace !== undefined ? { namespace: s.namespace } : {}),
    ...(s.labels ? { labels: s.labels } : {}),
    serviceAccountName: WORKFLOW_SERVICE_ACCOUNT,
    // The orchestrator's own variables (isolated-environment.ts), without its API's listen address and token.
    env: [
      { name: "TIERS_ENVIRONMENT", value: s.environment },
      { name: "TIERS_TIER", value: s.tier },
      { name: "TIERS_REGION", value: s.region },
      { name: "TIERS_PLAN", value: "/etc/tiers/plan.json" },
      { name: "TIERS_ENVIRONMENT_CONFIG", value: "/etc/tiers/environment.json" },
      { name: "TIERS_DATA_DIR", value: "/data" },
      { name: "TIERS_SIGNING_KEY_FILE", value: "/var/run/secrets/tiers/signing/private.pem" },
      { name: "TIERS_SUT_URL", value: `http://${STEP_OBJECTS.sutService}:${s.sutPort}` },
      { name: "TIERS_IPERF3_SERVER", value: `${STEP_OBJECTS.iperf3Service}:${s.iperf3Port}` },
      ...(s.bundlesRegion !== undefined ? [{ name: "AWS_REGION", value: s.bundlesRegion }] : []),
    ],
    // The chaos phase's run-faults step creates Chaos Mesh resources, as the orchestrator does
    // (isolated-environment.ts): the workflow's ServiceAccount is bound to the same Role
    // (chaos-access.ts), and only this step's pod mounts its token.
    ...(faults ? { faults: { env: [{ name: "TIERS_FAULTS", value: "chaos-mesh" }], kubeApi: true } } : {}),
    // The load-generating steps (start-cycle's calibration, each load segment) run their load as
    // the orchestrator does: Indexed Jobs (load-jobs.ts binds the Role to this ServiceAccount too),
    // created through the API server the step pods reach (network-policies.ts, allow-argo-kube-api).
    ...((s.loadJobWorkers ?? 0) > 0
      ? { load: { env: loadJobEnv(s.image, s.loadJobWorkers!), kubeApi: true } }
      : {}),
    resources: resourceRequirements(ORCHESTRATOR_RESOURCES) as Record<string, unknown>,
    podSecurityContext: restrictedPodSecurity() as Record<string, unknown>,
    containerSecurityContext: restrictedContainerSecurity() as Record<string, unknown>,
    volumes: [
      { name: "tmp", emptyDir: { sizeLimit: "1Gi" } },
      { name: "data", persistentVolumeClaim: { claimName: STEP_OBJECTS.dataClaim } },
      { name: "config", configMap: { name: STEP_OBJECTS.configMap } },
      { name: "signing-key", secret: { secretName: STEP_OBJECTS.signingSecret, defaultMode: 0o440 } },
    ],
    volumeMounts: [
      { name: "tmp", mountPath: "/tmp" },
      { name: "data", mountPath: "/data" },
      { name: "config", mountPath: "/etc/tiers", readOnly: true },
      { name: "signing-key", mountPath: "/var/run/secrets/tiers/signing", readOnly: true },
    ],
    // The store is a ReadWriteOnce volume: the steps run on the node that has it mounted, beside
    // the orchestrator (SQLite's WAL needs one host's shared memory, too).
    affinity: {
      podAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          {
            labelSelector: { matchLabels: { "app.kubernetes.io/name": "orchestrator" } },
            topologyKey: "kubernetes.io/hostname",
          },
        ],
      },
    },
  });
}
