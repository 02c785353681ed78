import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as tls from "@pulumi/tls";
import type { TierName } from "../../tiers/schema/names.js";
import type { ClusterMonitoringSettings } from "../../tiers/monitoring/cluster-settings.js";
import type { NodeGroupSizing, Resources } from "../../tiers/infra/sizing.js";
import type { WorkloadSizes } from "../../tiers/infra/workload-sizing.js";
import type { EksLogType } from "../cluster/eks-cluster.js";
import { RegionCluster, type KubeconfigClusterArgs } from "../cluster/region-cluster.js";
import { IsolatedEnvironment } from "../environment/isolated-environment.js";
import {
  ORCHESTRATOR_SERVICE_ACCOUNT,
  type EnvironmentImages,
  type SutSpec,
} from "../environment/workloads.js";
import { regionCidr } from "../network/cidr.js";
import { createVpcPeering, type PeeringSide } from "../network/peering.js";
import { RegionNetwork, type RegionNetworkArgs } from "../network/region-network.js";
import { RegionPlatform } from "../platform/region-platform.js";
import { awsTags, type Lifecycle } from "../shared/labels.js";
import { BundleStore, type BundleStoreArgs } from "../storage/bundle-store.js";

export const TEST_TIER_TYPE = "tiers:tier:TestTier";

/** Settings of eks mode that hold for every region of the tier. */
export interface EksTierSettings {
  readonly mode: "eks";
  readonly version: string;
  readonly endpointPublicAccess?: boolean;
  readonly publicAccessCidrs?: readonly string[];
  readonly logTypes?: readonly EksLogType[];
  /** IAM principals given cluster-admin through access entries (who destroys must reach the API). */
  readonly accessPrincipals?: readonly string[];
  /** Control-plane and flow-log retention. */
  readonly logRetentionDays: number;
  /** The node group every region gets (the tier's figures). */
  readonly nodeGroup: NodeGroupSizing;
  readonly network: Omit<RegionNetworkArgs, "region" | "existingVpcId" | "flowLogRetentionDays">;
  /** Region code → VPC id to adopt instead of creating one. */
  readonly existingVpcIds?: Readonly<Record<string, string>>;
  readonly bundles?: Pick<BundleStoreArgs, "expireDays" | "noncurrentExpireDays" | "forceDestroy">;
}

export interface TierEnvironmentArgs {
  readonly id: string;
  readonly role: string;
  readonly namespace: string;
  readonly quota: Resources;
  readonly sizes: WorkloadSizes;
  /** The environment's CyclePlan JSON. */
  readonly planJson: string;
}

export interface TierRegionArgs {
  /** Region code (in kubeconfig mode only a label). */
  readonly location: string;
  readonly roles: readonly string[];
  /** The largest container a LimitRange admits in this region (one node's usable share). */
  readonly maxContainer: Resources;
  readonly environments: readonly TierEnvironmentArgs[];
}

export interface TestTierArgs extends Lifecycle {
  readonly stack: string;
  readonly tier: TierName;
  readonly cluster: EksTierSettings | Omit<KubeconfigClusterArgs, never>;
  readonly regions: readonly TierRegionArgs[];
  readonly images: EnvironmentImages;
  readonly sut: SutSpec;
  readonly orchestratorStorage: string;
  /** A monitoring stack per region from the catalog (tiers/monitoring); none when absent. */
  readonly monitoring?: ClusterMonitoringSettings;
  /**
   * The plan runs the chaos phase with faults: Chaos Mesh per region, environment namespaces open
   * to it, and a Role for the orchestrator's chaos resources.
   * @default false
   */
  readonly chaos?: boolean;
}

export interface RegionOutputs {
  readonly roles: readonly string[];
  /** The kubeconfig context to use (kubeconfig mode); the kubeconfig itself is in `kubeconfigs`. */
  readonly context?: string;
  readonly clusterName?: pulumi.Output<string>;
  readonly bundleBucket?: pulumi.Output<string>;
}

export interface EnvironmentOutputs {
  readonly region: string;
  readonly role: string;
  readonly namespace: pulumi.Output<string>;
  readonly orchestratorService: pulumi.Output<string>;
  readonly orchestratorUrl: pulumi.Output<string>;
  readonly signingPublicKeyPem: pulumi.Output<string>;
  readonly bundleBucket?: pulumi.Output<string>;
  readonly bundlePrefix?: string;
  /** PEM of the region's CA (cert-manager) the orchestrator's HTTPS certificate chains to. */
  readonly orchestratorCa: pulumi.Output<string | undefined>;
}

/**
 * Secrets are kept apart from the rest: a map holding one secret becomes secret as a whole, and a
 * runner should read namespaces and services without unlocking credentials.
 */
export interface TestTierOutputs {
  readonly regions: Readonly<Record<string, RegionOutputs>>;
  readonly environments: Readonly<Record<string, EnvironmentOutputs>>;
  /** Secret: region code → kubeconfig (an environment uses its region's). */
  readonly kubeconfigs: pulumi.Output<Record<string, string>>;
  /** Secret: environment id → the bearer token of its orchestrator's API. */
  readonly apiTokens: pulumi.Output<Record<string, string>>;
}

/**
 * A tier over its regions. Per region: an explicit `aws.Provider` (eks mode), the network, the
 * cluster (whose `k8s.Provider` every Kubernetes object of the region uses), the bundle store, and
 * the region's isolated environments. TestTier creates the providers, so unlike the other
 * components its core takes no provider.
 */
export class TestTier extends pulumi.ComponentResource implements TestTierOutputs {
  public readonly regions: TestTierOutputs["regions"];
  public readonly environments: TestTierOutputs["environments"];
  public readonly kubeconfigs: TestTierOutputs["kubeconfigs"];
  public readonly apiTokens: TestTierOutputs["apiTokens"];

  constructor(name: string, args: TestTierArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super(TEST_TIER_TYPE, name, {}, opts);
    const out = createTestTier(name, args, this);
    this.regions = out.regions;
    this.environments = out.environments;
    this.kubeconfigs = out.kubeconfigs;
    this.apiTokens = out.apiTokens;
    this.registerOutputs({});
  }
}

/** The owner and expiry of `args`, only the ones set. */
function lifecycle(args: Lifecycle): Lifecycle {
  return {
    ...(args.owner !== undefined ? { owner: args.owner } : {}),
    ...(args.expiresAt !== undefined ? { expiresAt: args.expiresAt } : {}),
  };
}

export function createTestTier(name: string, args: TestTierArgs, parent: pulumi.Resource): TestTierOutputs {
  // Local providers too are explicit, so no resource of the stack uses a default provider.
  const randomProvider = new random.Provider(`${name}-random`, {}, { parent });
  const tlsProvider = new tls.Provider(`${name}-tls`, {}, { parent });
  const regions: Record<string, RegionOutputs> = {};
  const environments: Record<string, EnvironmentOutputs> = {};
  const kubeconfigs: Record<string, pulumi.Output<string>> = {};
  const apiTokens: Record<string, pulumi.Output<string>> = {};
  // Multi-region on EKS: the primary goes first, so the others can remote-write to it over a peering.
  const ordered = [...args.regions].sort(
    (a, b) => Number(!a.roles.includes("primary")) - Number(!b.roles.includes("primary")),
  );
  const federated =
    args.cluster.mode === "eks" && args.regions.length > 1 && args.monitoring?.federation === true;
  let receiver: { url: pulumi.Output<string>; side?: PeeringSide } | undefined;
  // Each region's planned VPC CIDR (as RegionNetwork gets it below), for the receiver's listener;
  // an adopted VPC's CIDR is not known before it is read, so it is left to its owner.
  const eks = args.cluster.mode === "eks" ? args.cluster : undefined;
  const senderCidrs = ordered.flatMap((r, i) =>
    eks && !eks.existingVpcIds?.[r.location]
      ? [{ location: r.location, cidr: regionCidr(eks.network.cidr ?? "10.0.0.0/16", i) }]
      : [],
  );

  for (const [index, region] of ordered.entries()) {
    const loc = region.location;
    let peeringSide: PeeringSide | undefined;
    let awsProvider: aws.Provider | undefined;
    let cluster: RegionCluster;
    let bundles: BundleStore | undefined;
    let vpcCidr: pulumi.Output<string> | undefined;
    const cfg = args.cluster;
    if (cfg.mode === "eks") {
      awsProvider = new aws.Provider(
        `${name}-aws-${loc}`,
        {
          region: loc as aws.Region,
          defaultTags: {
            tags: awsTags({
              stack: args.stack,
              tier: args.tier,
              region: loc,
              roles: region.roles,
              ...lifecycle(args),
            }),
          },
        },
        { parent },
      );
      const existing = cfg.existingVpcIds?.[loc];
      const network = new RegionNetwork(
        loc,
        {
          ...cfg.network,
          // Each region its own CIDR (the stack's for the first, the next ones after it): peerable.
          cidr: regionCidr(cfg.network.cidr ?? "10.0.0.0/16", index),
          region: loc,
          flowLogRetentionDays: cfg.logRetentionDays,
          ...(existing !== undefined ? { existingVpcId: existing } : {}),
        },
        awsProvider,
        { parent },
      );
      vpcCidr = network.cidr;
      if (network.privateRouteTableIds) {
        peeringSide = {
          region: loc,
          provider: awsProvider,
          vpcId: network.vpcId,
          cidr: network.cidr,
          routeTableIds: network.privateRouteTableIds,
        };
      } else if (federated) {
        void pulumi.log.warn(
          `region ${loc} adopts VPC ${existing}: no peering routes are managed for it; route the other regions' CIDRs to the peering yourself`,
          parent,
        );
      }
      cluster = new RegionCluster(
        loc,
        {
          mode: "eks",
          region: loc,
          clusterName: `tiers-${args.stack}-${loc}`,
          version: cfg.version,
          privateSubnetIds: network.privateSubnetIds,
          ...(cfg.endpointPublicAccess !== undefined
            ? { endpointPublicAccess: cfg.endpointPublicAccess }
            : {}),
          ...(cfg.publicAccessCidrs ? { publicAccessCidrs: cfg.publicAccessCidrs } : {}),
          ...(cfg.logTypes ? { logTypes: cfg.logTypes } : {}),
          ...(cfg.accessPrincipals ? { accessPrincipals: cfg.accessPrincipals } : {}),
          logRetentionDays: cfg.logRetentionDays,
          nodeGroup: cfg.nodeGroup,
          nodeLabels: { "test-tiers/tier": args.tier, "test-tiers/region": loc },
        },
        awsProvider,
        { parent },
      );
      bundles = new BundleStore(
        loc,
        {
          stack: args.stack,
          region: loc,
          oidcProviderArn: cluster.oidc!.providerArn,
          oidcIssuerUrl: cluster.oidc!.issuerUrl,
          environments: region.environments.map((e) => ({
            id: e.id,
            namespace: e.namespace,
            serviceAccount: ORCHESTRATOR_SERVICE_ACCOUNT,
          })),
          ...(cfg.bundles ?? {}),
        },
        awsProvider,
        { parent },
      );
    } else {
      cluster = new RegionCluster(loc, { ...cfg, mode: "kubeconfig" }, undefined, { parent });
    }
    const isReceiver = federated && region.roles.includes("primary");
    if (federated && !isReceiver && !receiver) {
      throw new pulumi.ResourceError(
        `tier ${args.tier}: no region has the primary role to remote-write to`,
        parent,
      );
    }
    const platform = new RegionPlatform(
      loc,
      {
        stack: args.stack,
        tier: args.tier,
        region: loc,
        roles: region.roles,
        mode: cfg.mode,
        environments: region.environments.map((e) => ({ id: e.id, namespace: e.namespace, role: e.role })),
        dependsOn: cluster.ready,
        ...(args.chaos ? { chaos: true } : {}),
        ...lifecycle(args),
        ...(args.monitoring
          ? {
              monitoring: {
                settings: args.monitoring,
                cluster: cfg.mode === "eks" ? `tiers-${args.stack}-${loc}` : (cluster.context ?? loc),
                federation: !federated ? "standalone" : isReceiver ? "receiver" : "sender",
                ...(federated && !isReceiver ? { remoteWriteUrl: receiver!.url } : {}),
                // The receiver's listener opened to the other regions' VPCs (their CIDRs are
                // planned here, as RegionNetwork gets them; an adopted VPC's is not known yet).
                ...(isReceiver
                  ? { remoteWriteSources: senderCidrs.filter((s) => s.location !== loc).map((s) => s.cidr) }
                  : {}),
                ...(cluster.storageClassName !== undefined
                  ? { storageClassName: cluster.storageClassName }
                  : {}),
              },
            }
          : {}),
      },
      {
        kubernetes: cluster.k8sProvider,
        random: randomProvider,
        ...(awsProvider ? { aws: awsProvider } : {}),
      },
      { parent },
    );
    if (isReceiver) {
      receiver = { url: platform.monitoring!.remoteWriteUrl!, ...(peeringSide ? { side: peeringSide } : {}) };
    } else if (federated && peeringSide && receiver?.side) {
      createVpcPeering(`${name}-peering-${loc}-${receiver.side.region}`, peeringSide, receiver.side, parent);
    }
    kubeconfigs[loc] = cluster.kubeconfig;
    regions[loc] = {
      roles: region.roles,
      ...(cluster.context !== undefined ? { context: cluster.context } : {}),
      ...(cluster.clusterName ? { clusterName: cluster.clusterName } : {}),
      ...(bundles ? { bundleBucket: bundles.bucketName } : {}),
    };

    for (const env of region.environments) {
      const writer = bundles?.writers[env.id];
      const environment = new IsolatedEnvironment(
        env.id,
        {
          stack: args.stack,
          tier: args.tier,
          region: loc,
          role: env.role,
          id: env.id,
          namespace: env.namespace,
          quota: env.quota,
          maxContainer: region.maxContainer,
          sizes: env.sizes,
          images: args.images,
          sut: args.sut,
          orchestratorStorage: args.orchestratorStorage,
          ...(cluster.storageClassName !== undefined ? { storageClassName: cluster.storageClassName } : {}),
          planJson: env.planJson,
          ...lifecycle(args),
          ...(bundles && writer && vpcCidr
            ? {
                bundles: {
                  bucket: bundles.bucketName,
                  prefix: writer.prefix,
                  region: loc,
                  roleArn: writer.roleArn,
                  exceptCidrs: vpcCidr.apply((c) => [c]),
                },
              }
            : {}),
          tlsIssuer: platform.certificateIssuer,
          dependsOn: [...cluster.ready, ...platform.ready],
          ...(args.chaos ? { chaos: true } : {}),
        },
        { kubernetes: cluster.k8sProvider, random: randomProvider, tls: tlsProvider },
        { parent },
      );
      apiTokens[env.id] = environment.apiToken;
      environments[env.id] = {
        region: loc,
        role: env.role,
        namespace: environment.namespace,
        orchestratorService: environment.orchestratorService,
        orchestratorUrl: environment.orchestratorUrl,
        signingPublicKeyPem: environment.signingPublicKeyPem,
        orchestratorCa: platform.caCertificate,
        ...(bundles && writer ? { bundleBucket: bundles.bucketName, bundlePrefix: writer.prefix } : {}),
      };
    }
  }
  return {
    regions,
    environments,
    kubeconfigs: pulumi.secret(kubeconfigs),
    apiTokens: pulumi.secret(apiTokens),
  };
}
