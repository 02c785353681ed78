import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type * as random from "@pulumi/random";
import type * as tls from "@pulumi/tls";
import { ENVIRONMENT_ID } from "../../tiers/schema/names.js";
import { cpuQuantity, memoryQuantity, type Resources } from "../../tiers/infra/sizing.js";
import type { WorkloadSizes } from "../../tiers/infra/workload-sizing.js";
import { imagePinProblem, PINNED_IMAGE_EXPECTED } from "../../tiers/infra/image-ref.js";
import { EXPIRY_EXPECTED, OWNER_EXPECTED, ownerProblem, parseExpiry } from "../../tiers/infra/identity.js";
import { argsError } from "../shared/args-error.js";
import { childrenOf } from "../shared/children.js";
import { environmentLabels, lifecycleAnnotations, type Lifecycle } from "../shared/labels.js";
import { CHAOS_INJECT_ANNOTATION } from "../../tiers/infra/chaos-mesh.js";
import { createChaosAccess } from "./chaos-access.js";
import { createCredentials } from "./credentials.js";
import { createGuardrails, type ObjectMeta } from "./guardrails.js";
import { createLoadJobAccess } from "./load-jobs.js";
import { createOrchestratorCertificate } from "./orchestrator-certificate.js";
import { loadJobEnv, WORKFLOW_SERVICE_ACCOUNT } from "./workflow-options.js";
import {
  createSutAutoscaler,
  createWorkflowController,
  createWorkflowTemplate,
  environmentCapacity,
} from "./workflow.js";
import {
  deployIperf3,
  deployOrchestrator,
  deploySut,
  IPERF3_PORT,
  ORCHESTRATOR_PORT,
  ORCHESTRATOR_SERVICE_ACCOUNT,
  type EnvironmentImages,
  type SutSpec,
} from "./workloads.js";

export const ISOLATED_ENVIRONMENT_TYPE = "tiers:environment:IsolatedEnvironment";

/** Where the environment's bundles go on EKS: its own prefix of the region's bucket, through IRSA. */
export interface EnvironmentBundleTarget {
  readonly bucket: pulumi.Input<string>;
  readonly prefix: string;
  readonly region: string;
  readonly roleArn: pulumi.Input<string>;
  /** CIDRs the upload egress must not reach (the VPC, where the other environments live). */
  readonly exceptCidrs: pulumi.Input<pulumi.Input<string>[]>;
}

export interface IsolatedEnvironmentArgs extends Lifecycle {
  readonly stack: string;
  readonly tier: string;
  readonly region: string;
  readonly role: string;
  /** The environment id (plan's `id`). */
  readonly id: string;
  /** Kubernetes namespace, created here and owned by this environment alone. */
  readonly namespace: string;
  /** The ResourceQuota: requests and limits may not exceed these. */
  readonly quota: Resources;
  /** The largest container the LimitRange admits (what one node offers). */
  readonly maxContainer: Resources;
  readonly sizes: WorkloadSizes;
  readonly images: EnvironmentImages;
  readonly sut: SutSpec;
  /**
   * Size of the orchestrator's volume (SQLite, raw tool output, bundles before upload).
   * @default "10Gi"
   */
  readonly orchestratorStorage?: string;
  /** @default the cluster's default StorageClass */
  readonly storageClassName?: pulumi.Input<string>;
  /** The environment's cycle plan (a CyclePlan JSON document), mounted at /etc/tiers/plan.json. */
  readonly planJson: string;
  /** EKS: where bundles go. Absent (kubeconfig mode): bundles stay on the volume under /data/bundles. */
  readonly bundles?: EnvironmentBundleTarget;
  /**
   * The namespace whose pods may scrape this environment.
   * @default "monitoring"
   */
  readonly monitoringNamespace?: string;
  /**
   * The cert-manager ClusterIssuer of the region's CA (components/platform/certificates.ts): the
   * orchestrator serves HTTPS with a certificate it issues for the orchestrator Service's names.
   */
  readonly tlsIssuer: string;
  /** What the namespace must wait for (the cluster's nodes and add-ons). */
  readonly dependsOn?: readonly pulumi.Resource[];
  /**
   * The plan injects chaos faults: the namespace is annotated for Chaos Mesh, and the orchestrator
   * gets a Role for its chaos resources and its service account token (chaos-access.ts).
   * @default false
   */
  readonly chaos?: boolean;
}

export interface EnvironmentProviders {
  readonly kubernetes: k8s.Provider;
  readonly random: random.Provider;
  readonly tls: tls.Provider;
}

export interface IsolatedEnvironmentOutputs {
  readonly namespace: pulumi.Output<string>;
  readonly orchestratorService: pulumi.Output<string>;
  readonly orchestratorUrl: pulumi.Output<string>;
  /** Secret: the bearer token of the orchestrator's API. */
  readonly apiToken: pulumi.Output<string>;
  /** The public half of the bundle signing key, for the centre's keyring. */
  readonly signingPublicKeyPem: pulumi.Output<string>;
}

/**
 * One isolated environment: a restricted namespace that shares nothing, with its own orchestrator,
 * SUT, iperf3 server, storage, configuration, credentials and (on EKS) bundle prefix.
 */
export class IsolatedEnvironment extends pulumi.ComponentResource implements IsolatedEnvironmentOutputs {
  public readonly namespace: pulumi.Output<string>;
  public readonly orchestratorService: pulumi.Output<string>;
  public readonly orchestratorUrl: pulumi.Output<string>;
  public readonly apiToken: pulumi.Output<string>;
  public readonly signingPublicKeyPem: pulumi.Output<string>;

  constructor(
    name: string,
    args: IsolatedEnvironmentArgs,
    providers: EnvironmentProviders,
    opts: pulumi.ComponentResourceOptions = {},
  ) {
    validateIsolatedEnvironmentArgs(name, args);
    super(ISOLATED_ENVIRONMENT_TYPE, name, {}, opts);
    const out = createIsolatedEnvironment(name, args, this, providers);
    this.namespace = out.namespace;
    this.orchestratorService = out.orchestratorService;
    this.orchestratorUrl = out.orchestratorUrl;
    this.apiToken = out.apiToken;
    this.signingPublicKeyPem = out.signingPublicKeyPem;
    this.registerOutputs({ namespace: this.namespace, orchestratorUrl: this.orchestratorUrl });
  }
}

export function validateIsolatedEnvironmentArgs(name: string, args: IsolatedEnvironmentArgs): void {
  const t = ISOLATED_ENVIRONMENT_TYPE;
  if (!ENVIRONMENT_ID.test(args.id))
    throw argsError(t, name, "id", "is not an environment id", args.id, String(ENVIRONMENT_ID));
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(args.namespace)) {
    throw argsError(
      t,
      name,
      "namespace",
      "is not a DNS label",
      args.namespace,
      "lower case letters, digits and -, at most 63",
    );
  }
  if (args.owner !== undefined && ownerProblem(args.owner))
    throw argsError(t, name, "owner", ownerProblem(args.owner)!, args.owner, OWNER_EXPECTED);
  if (args.expiresAt !== undefined && !parseExpiry(args.expiresAt))
    throw argsError(t, name, "expiresAt", "is not a time", args.expiresAt, EXPIRY_EXPECTED);
  for (const key of ["orchestrator", "sut", "adapters"] as const) {
    const problem = imagePinProblem(args.images[key]);
    if (problem) throw argsError(t, name, `images.${key}`, problem, args.images[key], PINNED_IMAGE_EXPECTED);
  }
  if (!(Number.isInteger(args.sut.port) && args.sut.port >= 1024 && args.sut.port <= 65535)) {
    throw argsError(
      t,
      name,
      "sut.port",
      "is not an unprivileged port",
      args.sut.port,
      "an integer from 1024 to 65535 (the SUT runs as non-root)",
    );
  }
  const limits = [
    args.sizes.orchestrator.limits,
    args.sizes.iperf3.limits,
    ...Array<Resources>(args.sut.replicas).fill(args.sizes.sut.limits),
  ];
  const cpu = limits.reduce((n, r) => n + r.cpu_millis, 0);
  const memory = limits.reduce((n, r) => n + r.memory_bytes, 0);
  if (cpu > args.quota.cpu_millis || memory > args.quota.memory_bytes) {
    throw argsError(
      t,
      name,
      "quota",
      "is smaller than the workloads' limits",
      args.quota,
      `at least ${cpuQuantity(cpu)} CPU and ${memoryQuantity(memory)}`,
    );
  }
}

export function createIsolatedEnvironment(
  name: string,
  args: IsolatedEnvironmentArgs,
  parent: pulumi.Resource,
  providers: EnvironmentProviders,
): IsolatedEnvironmentOutputs {
  const c = childrenOf(parent, name, providers.kubernetes);
  const who = { stack: args.stack, tier: args.tier, region: args.region, environment: args.id };
  const labels = (app?: string): Record<string, string> => environmentLabels(who, app);

  const ns = new k8s.core.v1.Namespace(
    c.name("ns"),
    {
      metadata: {
        name: args.namespace,
        annotations: {
          ...lifecycleAnnotations(args),
          ...(args.chaos ? { [CHAOS_INJECT_ANNOTATION.key]: CHAOS_INJECT_ANNOTATION.value } : {}),
        },
        labels: {
          ...labels(),
          // Pod Security Admission: refuse, warn about and audit anything above "restricted".
          "pod-security.kubernetes.io/enforce": "restricted",
          "pod-security.kubernetes.io/enforce-version": "latest",
          "pod-security.kubernetes.io/warn": "restricted",
          "pod-security.kubernetes.io/audit": "restricted",
        },
      },
    },
    c.opts({ dependsOn: [...(args.dependsOn ?? [])] }),
  );
  const namespace = ns.metadata.name;
  const meta: ObjectMeta = (objectName, app) => ({ name: objectName, namespace, labels: labels(app) });

  createGuardrails(c, meta, {
    quota: args.quota,
    maxContainer: args.maxContainer,
    monitoringNamespace: args.monitoringNamespace ?? "monitoring",
    ...(args.bundles ? { bundleUploadExcept: args.bundles.exceptCidrs } : {}),
    // The API server (load Jobs, and the chaos injectors): on EKS inside the VPC; an existing
    // cluster's address is not known here.
    kubeApiCidrs: args.bundles ? args.bundles.exceptCidrs : ["0.0.0.0/0"],
    // Every environment runs its own Argo controller and workflows (below).
    argoKubeApiCidrs: args.bundles ? args.bundles.exceptCidrs : ["0.0.0.0/0"],
  });
  const serviceAccount = new k8s.core.v1.ServiceAccount(
    c.name("orchestrator"),
    {
      metadata: {
        ...meta(ORCHESTRATOR_SERVICE_ACCOUNT, "orchestrator"),
        ...(args.bundles ? { annotations: { "eks.amazonaws.com/role-arn": args.bundles.roleArn } } : {}),
      },
      automountServiceAccountToken: false,
    },
    c.opts(),
  );
  // The loaded phases' Indexed Jobs: a Role for Jobs and pods in this namespace only, for the
  // orchestrator and the workflow's load steps (their ServiceAccount is the chart's).
  createLoadJobAccess(c, meta, serviceAccount, WORKFLOW_SERVICE_ACCOUNT);
  const credentials = createCredentials(c, meta, providers);
  // The workflow's run-faults step injects as the orchestrator does (its ServiceAccount is the chart's).
  if (args.chaos) createChaosAccess(c, meta, serviceAccount.metadata.name, WORKFLOW_SERVICE_ACCOUNT);

  const environmentJson = pulumi.all([args.bundles?.bucket ?? ""]).apply(([bucket]) =>
    JSON.stringify({
      stack: args.stack,
      tier: args.tier,
      region: args.region,
      role: args.role,
      environment: args.id,
      bundles: args.bundles
        ? { kind: "s3", bucket, prefix: args.bundles.prefix, region: args.bundles.region }
        : { kind: "volume", path: "/data/bundles" },
    }),
  );
  const config = new k8s.core.v1.ConfigMap(
    c.name("config"),
    {
      metadata: meta("orchestrator-config", "orchestrator"),
      data: { "plan.json": args.planJson, "environment.json": environmentJson },
    },
    c.opts(),
  );
  const data = new k8s.core.v1.PersistentVolumeClaim(
    c.name("data"),
    {
      metadata: {
        ...meta("orchestrator-data", "orchestrator"),
        // A WaitForFirstConsumer volume binds only once the pod exists, and the pod waits for this
        // claim: do not wait for "Bound" here (pulumi-kubernetes#895); the Deployment's await
        // covers it, since its pod is not ready until the volume is mounted.
        annotations: { "pulumi.com/skipAwait": "true" },
      },
      spec: {
        accessModes: ["ReadWriteOnce"],
        resources: { requests: { storage: args.orchestratorStorage ?? "10Gi" } },
        ...(args.storageClassName !== undefined ? { storageClassName: args.storageClassName } : {}),
      },
    },
    c.opts(),
  );

  const w = { c, namespace, labels, images: args.images, sizes: args.sizes };
  // The quota beyond the fixed workloads: half for load Job pods, the rest for the SUT's HPA.
  const capacity = environmentCapacity(args.quota, args.sizes, args.sut.replicas);
  const sut = deploySut(w, args.sut);
  const iperf3 = deployIperf3(w);
  const certificate = createOrchestratorCertificate(c, meta, {
    namespace: args.namespace,
    issuer: args.tlsIssuer,
  });
  const orchestrator = deployOrchestrator(w, {
    tlsSecret: certificate.secretName,
    tlsCertificate: certificate.resource,
    serviceAccount: serviceAccount.metadata.name,
    configMap: config.metadata.name,
    dataClaim: data.metadata.name,
    tokenSecret: credentials.tokenSecret.metadata.name,
    signingSecret: credentials.signingSecret.metadata.name,
    // The load Jobs and the chaos injectors call the API server as this service account (the Roles above).
    kubeApi: true,
    env: [
      { name: "TIERS_ENVIRONMENT", value: args.id },
      { name: "TIERS_TIER", value: args.tier },
      { name: "TIERS_REGION", value: args.region },
      { name: "TIERS_PLAN", value: "/etc/tiers/plan.json" },
      { name: "TIERS_ENVIRONMENT_CONFIG", value: "/etc/tiers/environment.json" },
      { name: "TIERS_DATA_DIR", value: "/data" },
      { name: "TIERS_LISTEN", value: `0.0.0.0:${ORCHESTRATOR_PORT}` },
      { name: "TIERS_SIGNING_KEY_FILE", value: "/var/run/secrets/tiers/signing/private.pem" },
      {
        name: "TIERS_SUT_URL",
        value: sut.service.metadata.name.apply((n) => `http://${n}:${args.sut.port}`),
      },
      {
        name: "TIERS_IPERF3_SERVER",
        value: iperf3.service.metadata.name.apply((n) => `${n}:${IPERF3_PORT}`),
      },
      ...(args.bundles ? [{ name: "AWS_REGION", value: args.bundles.region }] : []),
      // Every stretch of load an Indexed Job of this image's load-worker (the Role above), with at
      // most the pods the quota keeps for them, each planned for LOAD_WORKER_CAPACITY_RPS; when no
      // worker pod fits the quota, the orchestrator generates the load in its own pod.
      // The workflow's load steps get the same (loadJobWorkers below).
      ...(capacity.loadWorkers > 0 ? loadJobEnv(args.images.orchestrator, capacity.loadWorkers) : []),
      // The chaos phase's faults: Chaos Mesh resources in this namespace (the Role above).
      ...(args.chaos ? [{ name: "TIERS_FAULTS", value: "chaos-mesh" }] : []),
    ],
  });
  // Autoscaling: the SUT between its replicas and what the quota holds, on seed 001's figures.
  createSutAutoscaler(c, meta("sut", "sut"), sut.deployment, {
    min: args.sut.replicas,
    max: capacity.sutMax,
  });
  // Workflows: the environment's own Argo controller and the plan as its WorkflowTemplate, after
  // the CRDs (args.dependsOn holds the platform's CRD release).
  const controller = createWorkflowController(c, namespace, [ns, ...(args.dependsOn ?? [])]);
  createWorkflowTemplate(
    c,
    args.planJson,
    {
      image: args.images.orchestrator,
      environment: args.id,
      tier: args.tier,
      region: args.region,
      namespace,
      sutPort: args.sut.port,
      iperf3Port: IPERF3_PORT,
      ...(args.bundles ? { bundlesRegion: args.bundles.region } : {}),
      labels: labels(),
      // Its load steps run their load as Jobs as the orchestrator does, within the same workers.
      loadJobWorkers: capacity.loadWorkers,
    },
    [controller, ...(args.dependsOn ?? [])],
  );

  const service = orchestrator.service.metadata.name;
  return {
    namespace,
    orchestratorService: service,
    orchestratorUrl: pulumi.interpolate`https://${service}.${namespace}.svc.cluster.local:${ORCHESTRATOR_PORT}`,
    apiToken: credentials.apiToken,
    signingPublicKeyPem: credentials.signingPublicKeyPem,
  };
}
