import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { NodeGroupSizing } from "../../tiers/infra/sizing.js";
import { childrenOf, type Children } from "../shared/children.js";
import { createClusterAutoscaler } from "./autoscaler.js";
import {
  autoscalerClusterTag,
  irsaTrustPolicy,
  managedPolicyArn,
  serviceTrustPolicy,
} from "./iam-documents.js";
import { eksKubeconfig } from "./kubeconfig.js";

/** Every control-plane log EKS can send to CloudWatch. */
export const EKS_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"] as const;
export type EksLogType = (typeof EKS_LOG_TYPES)[number];

export interface EksClusterArgs {
  readonly mode: "eks";
  /** AWS region code; the provider passed with these args must be for the same region. */
  readonly region: string;
  /** The EKS cluster's name (also its CloudWatch log group `/aws/eks/<name>/cluster`). */
  readonly clusterName: string;
  /** Kubernetes minor version, e.g. "1.34". */
  readonly version: string;
  readonly privateSubnetIds: pulumi.Input<string[]>;
  /**
   * Whether the API endpoint is also reachable from outside the VPC (it is always reachable from
   * inside). `pulumi up` from outside the VPC needs it.
   * @default true
   */
  readonly endpointPublicAccess?: boolean;
  /**
   * Who may reach the public endpoint.
   * @default ["0.0.0.0/0"]
   */
  readonly publicAccessCidrs?: readonly string[];
  /**
   * Control-plane logs sent to CloudWatch.
   * @default every type (api, audit, authenticator, controllerManager, scheduler)
   */
  readonly logTypes?: readonly EksLogType[];
  /**
   * Days control-plane logs are kept.
   * @default 7
   */
  readonly logRetentionDays?: number;
  /**
   * IAM principals (role or user ARNs) given cluster-admin through EKS access entries, besides the
   * cluster's creator: whoever destroys the stack must reach the Kubernetes API.
   * @default none
   */
  readonly accessPrincipals?: readonly string[];
  /** The region's managed node group, from the tier (see tiers/infra/sizing.ts). */
  readonly nodeGroup: NodeGroupSizing;
  /** Kubernetes labels on every node. */
  readonly nodeLabels?: Readonly<Record<string, string>>;
}

export interface ClusterOutputs {
  /** The cluster's Kubernetes provider: every Kubernetes object of the region uses it. */
  readonly k8sProvider: k8s.Provider;
  /** Secret. */
  readonly kubeconfig: pulumi.Output<string>;
  readonly context?: string;
  readonly clusterName?: pulumi.Output<string>;
  /** IRSA: the cluster's OIDC provider ARN and issuer URL (eks mode only). */
  readonly oidc?: { readonly providerArn: pulumi.Output<string>; readonly issuerUrl: pulumi.Output<string> };
  /** StorageClass for volumes; `undefined` means the cluster's default class. */
  readonly storageClassName?: pulumi.Output<string> | string;
  /** What workloads must wait for: nodes and the add-ons that make pods and volumes work. */
  readonly ready: readonly pulumi.Resource[];
}

const EBS_CSI_SERVICE_ACCOUNT = { namespace: "kube-system", name: "ebs-csi-controller-sa" } as const;

/** EKS mode: control plane, node group sized from the tier, OIDC for IRSA, add-ons, the k8s provider. */
export function createEksCluster(
  name: string,
  args: EksClusterArgs,
  parent: pulumi.Resource,
  provider: aws.Provider,
): ClusterOutputs {
  const c = childrenOf(parent, name, provider);
  const logGroup = new aws.cloudwatch.LogGroup(
    c.name("control-plane"),
    { name: `/aws/eks/${args.clusterName}/cluster`, retentionInDays: args.logRetentionDays ?? 7 },
    c.opts(),
  );
  const clusterRole = roleWithPolicies(
    c,
    "cluster",
    serviceTrustPolicy("eks.amazonaws.com", ["sts:AssumeRole", "sts:TagSession"]),
    ["AmazonEKSClusterPolicy"],
  );
  // Envelope encryption of Secrets (API tokens, signing keys) in etcd with a key of our own.
  const secretsKey = new aws.kms.Key(
    c.name("secrets"),
    {
      description: `EKS secrets encryption for ${args.clusterName}`,
      enableKeyRotation: true,
      deletionWindowInDays: 7,
    },
    c.opts(),
  );
  const endpointPublicAccess = args.endpointPublicAccess ?? true;
  const cluster = new aws.eks.Cluster(
    c.name("cluster"),
    {
      name: args.clusterName,
      version: args.version,
      roleArn: clusterRole.role.arn,
      vpcConfig: {
        subnetIds: args.privateSubnetIds,
        endpointPrivateAccess: true,
        endpointPublicAccess,
        ...(endpointPublicAccess
          ? { publicAccessCidrs: [...(args.publicAccessCidrs ?? ["0.0.0.0/0"])] }
          : {}),
      },
      enabledClusterLogTypes: [...(args.logTypes ?? EKS_LOG_TYPES)],
      encryptionConfig: { provider: { keyArn: secretsKey.arn }, resources: ["secrets"] },
      accessConfig: { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: true },
    },
    c.opts({ dependsOn: [logGroup, ...clusterRole.attachments] }),
  );

  const access = (args.accessPrincipals ?? []).map((principalArn, i) => {
    const entry = new aws.eks.AccessEntry(
      c.name(`access-${i}`),
      { clusterName: cluster.name, principalArn, type: "STANDARD" },
      c.opts(),
    );
    return new aws.eks.AccessPolicyAssociation(
      c.name(`access-${i}`),
      {
        clusterName: cluster.name,
        principalArn,
        policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
        accessScope: { type: "cluster" },
      },
      c.opts({ dependsOn: [entry] }),
    );
  });

  const issuerUrl = cluster.identities.apply((ids) => {
    const issuer = ids[0]?.oidcs?.[0]?.issuer;
    if (!issuer) throw new pulumi.ResourceError(`cluster ${args.clusterName} reports no OIDC issuer`, parent);
    return issuer;
  });
  const oidc = new aws.iam.OpenIdConnectProvider(
    c.name("oidc"),
    { url: issuerUrl, clientIdLists: ["sts.amazonaws.com"] },
    c.opts(),
  );

  // NetworkPolicies are enforced on EKS only when the VPC CNI's network-policy agent is on.
  const vpcCni = new aws.eks.Addon(
    c.name("vpc-cni"),
    {
      clusterName: cluster.name,
      addonName: "vpc-cni",
      configurationValues: JSON.stringify({ enableNetworkPolicy: "true" }),
      resolveConflictsOnCreate: "OVERWRITE",
      resolveConflictsOnUpdate: "OVERWRITE",
    },
    c.opts(),
  );
  const nodeGroup = createNodeGroup(c, args, cluster, vpcCni);

  const ebsRole = roleWithPolicies(
    c,
    "ebs-csi",
    pulumi
      .all([oidc.arn, issuerUrl])
      .apply(([arn, url]) =>
        irsaTrustPolicy(arn, url, EBS_CSI_SERVICE_ACCOUNT.namespace, EBS_CSI_SERVICE_ACCOUNT.name),
      ),
    ["service-role/AmazonEBSCSIDriverPolicy"],
  );
  // PersistentVolumeClaims (the orchestrator's SQLite) need the EBS CSI driver on EKS ≥ 1.23.
  const ebsCsi = new aws.eks.Addon(
    c.name("ebs-csi"),
    {
      clusterName: cluster.name,
      addonName: "aws-ebs-csi-driver",
      serviceAccountRoleArn: ebsRole.role.arn,
      resolveConflictsOnCreate: "OVERWRITE",
      resolveConflictsOnUpdate: "OVERWRITE",
    },
    c.opts({ dependsOn: [nodeGroup, ...ebsRole.attachments] }),
  );

  const kubeconfig = pulumi.secret(
    pulumi
      .all([cluster.name, cluster.endpoint, cluster.certificateAuthority])
      .apply(([clusterName, endpoint, ca]) =>
        eksKubeconfig({
          clusterName,
          endpoint,
          certificateAuthorityData: ca.data ?? "",
          region: args.region,
        }),
      ),
  );
  const k8sProvider = new k8s.Provider(
    c.name("k8s"),
    { kubeconfig, deleteUnreachable: true, enableServerSideApply: true },
    { parent },
  );
  const storageClass = new k8s.storage.v1.StorageClass(
    c.name("gp3"),
    {
      metadata: { name: "tiers-gp3" },
      provisioner: "ebs.csi.aws.com",
      parameters: { type: "gp3", encrypted: "true" },
      volumeBindingMode: "WaitForFirstConsumer",
      reclaimPolicy: "Delete",
      allowVolumeExpansion: true,
    },
    c.optsWith(k8sProvider, { dependsOn: [ebsCsi] }),
  );
  createClusterAutoscaler(c, {
    clusterName: args.clusterName,
    region: args.region,
    oidcProviderArn: oidc.arn,
    issuerUrl,
    k8sProvider,
    dependsOn: [nodeGroup],
  });
  return {
    k8sProvider,
    kubeconfig,
    clusterName: cluster.name,
    oidc: { providerArn: oidc.arn, issuerUrl },
    storageClassName: storageClass.metadata.name,
    ready: [nodeGroup, vpcCni, ebsCsi, storageClass, ...access],
  };
}

function createNodeGroup(
  c: Children,
  args: EksClusterArgs,
  cluster: aws.eks.Cluster,
  vpcCni: aws.eks.Addon,
): aws.eks.NodeGroup {
  const sizing = args.nodeGroup;
  const nodeRole = roleWithPolicies(c, "nodes", serviceTrustPolicy("ec2.amazonaws.com"), [
    "AmazonEKSWorkerNodePolicy",
    "AmazonEKS_CNI_Policy",
    "AmazonEC2ContainerRegistryReadOnly",
  ]);
  const volume = sizing.volume;
  const template = new aws.ec2.LaunchTemplate(
    c.name("nodes"),
    {
      description: `${args.clusterName} nodes: ${sizing.volumeSizeGiB} GiB ${volume.type} root volume`,
      blockDeviceMappings: [
        {
          deviceName: "/dev/xvda",
          ebs: {
            volumeSize: sizing.volumeSizeGiB,
            volumeType: volume.type,
            ...(volume.iops !== undefined ? { iops: volume.iops } : {}),
            ...(volume.throughputMiBps !== undefined ? { throughput: volume.throughputMiBps } : {}),
            encrypted: "true",
            deleteOnTermination: "true",
          },
        },
      ],
      // IMDSv2 only. Hop limit 2 keeps host add-ons working; environment pods cannot reach IMDS
      // because their NetworkPolicies allow no egress to it.
      metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 2 },
      tagSpecifications: [{ resourceType: "instance", tags: { Name: `${args.clusterName}-node` } }],
    },
    c.opts(),
  );
  return new aws.eks.NodeGroup(
    c.name("nodes"),
    {
      clusterName: cluster.name,
      nodeRoleArn: nodeRole.role.arn,
      subnetIds: args.privateSubnetIds,
      instanceTypes: [sizing.instanceType.name],
      amiType: "AL2023_x86_64_STANDARD",
      capacityType: "ON_DEMAND",
      scalingConfig: { minSize: sizing.minSize, desiredSize: sizing.desiredSize, maxSize: sizing.maxSize },
      launchTemplate: { id: template.id, version: template.latestVersion.apply(String) },
      updateConfig: { maxUnavailable: 1 },
      labels: { ...(args.nodeLabels ?? {}) },
      // What cluster-autoscaler discovers (EKS also puts these on the group's Auto Scaling group).
      tags: {
        "k8s.io/cluster-autoscaler/enabled": "true",
        [autoscalerClusterTag(args.clusterName)]: "owned",
      },
    },
    // cluster-autoscaler (autoscaler.ts) moves desiredSize between min and max; do not fight it.
    c.opts({ dependsOn: [...nodeRole.attachments, vpcCni], ignoreChanges: ["scalingConfig.desiredSize"] }),
  );
}

function roleWithPolicies(
  c: Children,
  suffix: string,
  trust: pulumi.Input<string>,
  managed: readonly string[],
): { role: aws.iam.Role; attachments: aws.iam.RolePolicyAttachment[] } {
  const role = new aws.iam.Role(c.name(suffix), { assumeRolePolicy: trust }, c.opts());
  const attachments = managed.map(
    (p) =>
      new aws.iam.RolePolicyAttachment(
        c.name(`${suffix}-${p.split("/").pop()!}`),
        { role: role.name, policyArn: managedPolicyArn(p) },
        c.opts(),
      ),
  );
  return { role, attachments };
}
