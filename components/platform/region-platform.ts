import type * as aws from "@pulumi/aws";
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type * as random from "@pulumi/random";
import type { ClusterMonitoringSettings } from "../../tiers/monitoring/cluster-settings.js";
import type { TierName } from "../../tiers/schema/names.js";
import { childrenOf } from "../shared/children.js";
import type { Lifecycle } from "../shared/labels.js";
import { createCertificates } from "./certificates.js";
import { RegionMonitoring } from "./monitoring/region-monitoring.js";
import { createChaosMesh } from "./chaos-mesh.js";
import { createMetricsServer } from "./autoscaling.js";
import { createWorkflowCrds } from "./workflows.js";

export const REGION_PLATFORM_TYPE = "tiers:platform:RegionPlatform";

/** An environment of the region, as the platform pieces see it (they serve it, never enter it). */
export interface PlatformEnvironment {
  readonly id: string;
  readonly namespace: string;
  readonly role: string;
}

/**
 * What every platform piece of a region may read. Each piece (monitoring, workflows, certificates,
 * chaos, autoscaling) lives in its own file under `components/platform/` and adds its own args and
 * outputs here; `createRegionPlatform` calls each in turn.
 */
export interface RegionPlatformArgs extends Lifecycle {
  readonly stack: string;
  readonly tier: TierName;
  /** Region code (in kubeconfig mode only a label). */
  readonly region: string;
  readonly roles: readonly string[];
  readonly mode: "eks" | "kubeconfig";
  readonly environments: readonly PlatformEnvironment[];
  /** What the region's objects wait for (the cluster, its node group and add-ons). */
  readonly dependsOn: readonly pulumi.Resource[];
  /** The region's monitoring stack (components/platform/monitoring/); none when absent. */
  readonly monitoring?: {
    readonly settings: ClusterMonitoringSettings;
    readonly cluster: string;
    readonly federation: "standalone" | "receiver" | "sender";
    readonly remoteWriteUrl?: pulumi.Input<string>;
    /** Receiver only: the senders' VPC CIDRs its remote-write listener is opened to. */
    readonly remoteWriteSources?: readonly pulumi.Input<string>[];
    readonly storageClassName?: pulumi.Input<string>;
  };
  /**
   * The tier runs the chaos phase: Chaos Mesh is installed (`chaos-mesh.ts`).
   * @default false
   */
  readonly chaos?: boolean;
}

/** The Kubernetes provider of the region's cluster, and its AWS provider in eks mode. */
export interface PlatformProviders {
  readonly kubernetes: k8s.Provider;
  readonly aws?: aws.Provider;
  /** Needed with `monitoring` (Grafana's generated admin password). */
  readonly random?: random.Provider;
}

/** What the region's environments and the stack outputs take from the platform. */
export interface RegionPlatformOutputs {
  /** Resources an environment's objects must wait for (e.g. the release that installs a CRD they use). */
  readonly ready: pulumi.Resource[];
  /** cert-manager's CA ClusterIssuer that issues each environment's orchestrator certificate. */
  readonly certificateIssuer: string;
  /** PEM of the region's CA, which every orchestrator's certificate chains to (a stack output). */
  readonly caCertificate: pulumi.Output<string | undefined>;
  readonly monitoring?: RegionMonitoring;
}

/**
 * The shared platform of one region's cluster: the namespaces and releases that serve the region's
 * isolated environments from outside them (ARCHITECTURE: monitoring, workflows, certificates, chaos,
 * autoscaling). TestTier makes one per region after the cluster and before the environments.
 */
export class RegionPlatform extends pulumi.ComponentResource implements RegionPlatformOutputs {
  public readonly ready: pulumi.Resource[];
  public readonly certificateIssuer: string;
  public readonly caCertificate: pulumi.Output<string | undefined>;
  public readonly monitoring?: RegionMonitoring;

  constructor(
    name: string,
    args: RegionPlatformArgs,
    providers: PlatformProviders,
    opts: pulumi.ComponentResourceOptions = {},
  ) {
    super(REGION_PLATFORM_TYPE, name, {}, opts);
    const out = createRegionPlatform(name, args, providers, this);
    this.ready = out.ready;
    this.certificateIssuer = out.certificateIssuer;
    this.caCertificate = out.caCertificate;
    if (out.monitoring) this.monitoring = out.monitoring;
    this.registerOutputs({});
  }
}

export function createRegionPlatform(
  name: string,
  args: RegionPlatformArgs,
  providers: PlatformProviders,
  parent: pulumi.Resource,
): RegionPlatformOutputs {
  const ready: pulumi.Resource[] = [];
  const certificates = createCertificates(name, args, providers, parent);
  ready.push(...certificates.ready);
  // Workflows: Argo's CRDs once per cluster; each environment's WorkflowTemplate waits for them.
  ready.push(createWorkflowCrds(name, parent, providers.kubernetes, args.dependsOn));
  // Autoscaling: the HPAs' resource metrics (EKS; a kubeconfig cluster brings its own).
  if (args.mode === "eks")
    ready.push(createMetricsServer(name, parent, providers.kubernetes, args.dependsOn));
  let monitoring: RegionMonitoring | undefined;
  if (args.monitoring) {
    if (!providers.random) {
      throw new pulumi.ResourceError(`RegionPlatform ${name}: monitoring needs the random provider`, parent);
    }
    monitoring = new RegionMonitoring(
      name,
      {
        tier: args.tier,
        region: args.region,
        environments: args.environments,
        dependsOn: args.dependsOn,
        ...args.monitoring,
      },
      { kubernetes: providers.kubernetes, random: providers.random },
      { parent },
    );
  }
  const c = childrenOf(parent, name, providers.kubernetes);
  if (args.chaos) {
    const chaos = createChaosMesh(c, args, args.dependsOn);
    ready.push(chaos.release);
  }
  return {
    ready,
    certificateIssuer: certificates.issuer,
    caCertificate: certificates.caCertificate,
    ...(monitoring ? { monitoring } : {}),
  };
}
