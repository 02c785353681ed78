import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS } from "../platform/charts.js";
import type { Children } from "../shared/children.js";
import { clusterAutoscalerPolicy, irsaTrustPolicy } from "./iam-documents.js";

export const CLUSTER_AUTOSCALER_SERVICE_ACCOUNT = {
  namespace: "kube-system",
  name: "cluster-autoscaler",
} as const;

/**
 * cluster-autoscaler on EKS: it finds the cluster's node groups by their Auto Scaling groups' tags
 * and moves each between the min and max its scaling config holds (the catalog's, see
 * tiers/infra/sizing.ts), through IRSA — a role only its ServiceAccount can assume, with the
 * scaling actions limited to groups tagged as this cluster's.
 */
export function createClusterAutoscaler(
  c: Children,
  o: {
    readonly clusterName: string;
    readonly region: string;
    readonly oidcProviderArn: pulumi.Output<string>;
    readonly issuerUrl: pulumi.Output<string>;
    readonly k8sProvider: k8s.Provider;
    readonly dependsOn: readonly pulumi.Resource[];
  },
): { role: aws.iam.Role; release: k8s.helm.v3.Release } {
  const sa = CLUSTER_AUTOSCALER_SERVICE_ACCOUNT;
  const role = new aws.iam.Role(
    c.name("cluster-autoscaler"),
    {
      assumeRolePolicy: pulumi
        .all([o.oidcProviderArn, o.issuerUrl])
        .apply(([arn, url]) => irsaTrustPolicy(arn, url, sa.namespace, sa.name)),
    },
    c.opts(),
  );
  const inline = new aws.iam.RolePolicy(
    c.name("cluster-autoscaler"),
    { role: role.name, policy: clusterAutoscalerPolicy(o.clusterName) },
    c.opts(),
  );
  const chart = CHARTS.clusterAutoscaler;
  const release = new k8s.helm.v3.Release(
    c.name("cluster-autoscaler"),
    {
      name: "cluster-autoscaler",
      namespace: sa.namespace,
      chart: chart.chart,
      version: chart.version,
      repositoryOpts: { repo: chart.repo },
      values: {
        cloudProvider: "aws",
        awsRegion: o.region,
        autoDiscovery: { clusterName: o.clusterName },
        rbac: {
          serviceAccount: {
            create: true,
            name: sa.name,
            annotations: { "eks.amazonaws.com/role-arn": role.arn },
          },
        },
        extraArgs: { "balance-similar-node-groups": true, expander: "least-waste" },
        resources: { requests: { cpu: "100m", memory: "300Mi" }, limits: { cpu: "500m", memory: "600Mi" } },
      },
    },
    c.optsWith(o.k8sProvider, { dependsOn: [...o.dependsOn, inline] }),
  );
  return { role, release };
}
