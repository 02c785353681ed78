/** IAM policy documents the components write. Pure functions of plain strings, so tests read them as JSON. */

export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: "Allow" | "Deny";
  readonly Principal?: unknown;
  readonly Action: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly NotResource?: string | readonly string[];
  readonly Condition?: Record<string, Record<string, string | readonly string[]>>;
}

export interface PolicyDocument {
  readonly Version: "2012-10-17";
  readonly Statement: readonly PolicyStatement[];
}

export function policy(...statements: PolicyStatement[]): string {
  const doc: PolicyDocument = { Version: "2012-10-17", Statement: statements };
  return JSON.stringify(doc);
}

/** Trust policy letting an AWS service assume a role. */
export function serviceTrustPolicy(service: string, actions: readonly string[] = ["sts:AssumeRole"]): string {
  return policy({ Effect: "Allow", Principal: { Service: service }, Action: [...actions] });
}

/** `https://oidc.eks.us-east-1.amazonaws.com/id/ABC` → `oidc.eks.us-east-1.amazonaws.com/id/ABC` */
export function issuerHostPath(issuerUrl: string): string {
  return issuerUrl.replace(/^https:\/\//, "");
}

/**
 * IRSA trust policy: only the pods of `namespace` running as `serviceAccount`, with a token issued
 * for STS by this cluster's OIDC provider, may assume the role.
 */
export function irsaTrustPolicy(
  oidcProviderArn: string,
  issuerUrl: string,
  namespace: string,
  serviceAccount: string,
): string {
  const issuer = issuerHostPath(issuerUrl);
  return policy({
    Effect: "Allow",
    Principal: { Federated: oidcProviderArn },
    Action: "sts:AssumeRoleWithWebIdentity",
    Condition: {
      StringEquals: {
        [`${issuer}:sub`]: `system:serviceaccount:${namespace}:${serviceAccount}`,
        [`${issuer}:aud`]: "sts.amazonaws.com",
      },
    },
  });
}

/** AWS managed policy ARN (commercial partition: every region of the topology is commercial). */
export function managedPolicyArn(name: string): string {
  return `arn:aws:iam::aws:policy/${name}`;
}

/** The tag EKS puts on a managed node group's Auto Scaling group, and cluster-autoscaler discovers it by. */
export function autoscalerClusterTag(clusterName: string): string {
  return `k8s.io/cluster-autoscaler/${clusterName}`;
}

/**
 * cluster-autoscaler's permissions (its AWS provider's documented minimum): read the Auto Scaling
 * groups, instance types and launch templates anywhere; change the size of, and terminate instances
 * in, only the Auto Scaling groups tagged as this cluster's.
 */
export function clusterAutoscalerPolicy(clusterName: string): string {
  return policy(
    {
      Sid: "Describe",
      Effect: "Allow",
      Action: [
        "autoscaling:DescribeAutoScalingGroups",
        "autoscaling:DescribeAutoScalingInstances",
        "autoscaling:DescribeLaunchConfigurations",
        "autoscaling:DescribeScalingActivities",
        "autoscaling:DescribeTags",
        "ec2:DescribeImages",
        "ec2:DescribeInstanceTypes",
        "ec2:DescribeLaunchTemplateVersions",
        "ec2:GetInstanceTypesFromInstanceRequirements",
        "eks:DescribeNodegroup",
      ],
      Resource: "*",
    },
    {
      Sid: "ScaleOwnGroups",
      Effect: "Allow",
      Action: ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
      Resource: "*",
      Condition: { StringEquals: { [`aws:ResourceTag/${autoscalerClusterTag(clusterName)}`]: "owned" } },
    },
  );
}
