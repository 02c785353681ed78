import type * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { argsError } from "../shared/args-error.js";
import { createEksCluster, EKS_LOG_TYPES, type ClusterOutputs, type EksClusterArgs } from "./eks-cluster.js";
import { expandHome } from "./kubeconfig.js";

export const REGION_CLUSTER_TYPE = "tiers:cluster:RegionCluster";

/** An existing cluster (kind, minikube, any conformant cluster) reached through a kubeconfig. */
export interface KubeconfigClusterArgs {
  readonly mode: "kubeconfig";
  /** A kubeconfig file's path (`~/` is expanded) or its contents. Kept secret in state. */
  readonly kubeconfig: string;
  /**
   * Context of the kubeconfig to use.
   * @default the kubeconfig's current context
   */
  readonly context?: string;
  /**
   * StorageClass for the orchestrator's volume.
   * @default the cluster's default class
   */
  readonly storageClassName?: string;
}

export type RegionClusterArgs = EksClusterArgs | KubeconfigClusterArgs;

/**
 * A region's Kubernetes cluster: an EKS cluster built here (eks mode) or an existing one
 * (kubeconfig mode). Either way it hands out the `k8s.Provider` every Kubernetes object of the
 * region is created with.
 */
export class RegionCluster extends pulumi.ComponentResource implements ClusterOutputs {
  public readonly k8sProvider: k8s.Provider;
  public readonly kubeconfig: pulumi.Output<string>;
  public readonly context?: string;
  public readonly clusterName?: pulumi.Output<string>;
  public readonly oidc?: ClusterOutputs["oidc"];
  public readonly storageClassName?: pulumi.Output<string> | string;
  public readonly ready: readonly pulumi.Resource[];

  /** `provider` is the region's AWS provider; required in eks mode, unused in kubeconfig mode. */
  constructor(
    name: string,
    args: RegionClusterArgs,
    provider: aws.Provider | undefined,
    opts: pulumi.ComponentResourceOptions = {},
  ) {
    validateRegionClusterArgs(name, args, provider);
    super(REGION_CLUSTER_TYPE, name, {}, opts);
    const out = createRegionCluster(name, args, this, provider);
    this.k8sProvider = out.k8sProvider;
    this.kubeconfig = out.kubeconfig;
    this.ready = out.ready;
    if (out.context !== undefined) this.context = out.context;
    if (out.clusterName) this.clusterName = out.clusterName;
    if (out.oidc) this.oidc = out.oidc;
    if (out.storageClassName !== undefined) this.storageClassName = out.storageClassName;
    this.registerOutputs({ kubeconfig: this.kubeconfig, clusterName: this.clusterName });
  }
}

export function validateRegionClusterArgs(
  name: string,
  args: RegionClusterArgs,
  provider: aws.Provider | undefined,
): void {
  if (args.mode === "kubeconfig") {
    if (args.kubeconfig.trim() === "") {
      throw argsError(
        REGION_CLUSTER_TYPE,
        name,
        "kubeconfig",
        "is empty",
        args.kubeconfig,
        "a kubeconfig path or its contents",
      );
    }
    return;
  }
  if (!provider) {
    throw argsError(
      REGION_CLUSTER_TYPE,
      name,
      "mode",
      "needs the region's aws.Provider",
      args.mode,
      "an aws.Provider for eks mode",
    );
  }
  if (!/^1\.\d{2}$/.test(args.version)) {
    throw argsError(
      REGION_CLUSTER_TYPE,
      name,
      "version",
      "is not a Kubernetes minor version",
      args.version,
      "1.<minor>, e.g. 1.34",
    );
  }
  for (const t of args.logTypes ?? []) {
    if (!(EKS_LOG_TYPES as readonly string[]).includes(t)) {
      throw argsError(
        REGION_CLUSTER_TYPE,
        name,
        "logTypes",
        "names an unknown log type",
        t,
        `some of ${EKS_LOG_TYPES.join(", ")}`,
      );
    }
  }
  const n = args.nodeGroup;
  if (!(n.minSize >= 1 && n.minSize <= n.desiredSize && n.desiredSize <= n.maxSize)) {
    throw argsError(
      REGION_CLUSTER_TYPE,
      name,
      "nodeGroup",
      "sizes are out of order",
      { min: n.minSize, desired: n.desiredSize, max: n.maxSize },
      "1 <= min <= desired <= max",
    );
  }
}

export function createRegionCluster(
  name: string,
  args: RegionClusterArgs,
  parent: pulumi.Resource,
  provider: aws.Provider | undefined,
): ClusterOutputs {
  if (args.mode === "eks") return createEksCluster(name, args, parent, provider!);
  const kubeconfig = pulumi.secret(expandHome(args.kubeconfig));
  // A provider resource takes no provider of its own; its parent is the component.
  const k8sProvider = new k8s.Provider(
    `${name}-k8s`,
    {
      kubeconfig,
      ...(args.context !== undefined ? { context: args.context } : {}),
      deleteUnreachable: true,
      enableServerSideApply: true,
    },
    { parent },
  );
  return {
    k8sProvider,
    kubeconfig,
    ...(args.context !== undefined ? { context: args.context } : {}),
    ...(args.storageClassName !== undefined ? { storageClassName: args.storageClassName } : {}),
    ready: [],
  };
}
