import { parseExpiry, TAGS } from "../../tiers/infra/identity.js";

/** An AWS resource as the Resource Groups Tagging API lists it. */
export interface TaggedResource {
  readonly arn: string;
  readonly tags: Readonly<Record<string, string>>;
}

export interface Orphan {
  readonly arn: string;
  readonly stack: string;
  readonly expiresAt: string;
  /** How Cloud Control deletes it; undefined: a type the reaper does not delete (listed for a person). */
  readonly target?: CloudControlTarget;
}

/**
 * Resources a failed destroy left behind: tagged `test-tiers:expires-at` in the past, and naming a
 * `test-tiers:stack` that no longer exists on the backend. A resource of a live stack is that
 * stack's business (the stack reaper destroys the stack), never an orphan.
 */
export function findOrphans(
  resources: readonly TaggedResource[],
  liveStacks: ReadonlySet<string>,
  now: Date,
): Orphan[] {
  const out: Orphan[] = [];
  for (const r of resources) {
    const expiresAt = r.tags[TAGS.expiresAt];
    const stack = r.tags[TAGS.stack];
    const expiry = expiresAt !== undefined ? parseExpiry(expiresAt) : undefined;
    if (!expiry || expiry > now || stack === undefined || liveStacks.has(stack)) continue;
    const target = cloudControlTarget(r.arn);
    out.push({ arn: r.arn, stack, expiresAt: expiresAt!, ...(target ? { target } : {}) });
  }
  return out.sort((a, b) => (a.target?.rank ?? 99) - (b.target?.rank ?? 99) || a.arn.localeCompare(b.arn));
}

/** A Cloud Control API type, the resource's primary identifier, and when to delete it (lower first). */
export interface CloudControlTarget {
  readonly typeName: string;
  readonly identifier: string;
  readonly rank: number;
}

/**
 * ARN → what Cloud Control's DeleteResource needs, for the types this project's program creates,
 * ranked so that dependents go first (node groups and add-ons before their cluster, the cluster and
 * NAT gateways before subnets, everything in a VPC before the VPC). A bucket must be emptied first.
 */
export function cloudControlTarget(arn: string): CloudControlTarget | undefined {
  const m = /^arn:aws[a-z-]*:([a-z0-9-]+):([a-z0-9-]*):(\d*):(.+)$/.exec(arn);
  if (!m) return undefined;
  const [, service, , , resource] = m as unknown as [string, string, string, string, string];
  const slash = (type: string) =>
    resource.startsWith(`${type}/`) ? resource.slice(type.length + 1) : undefined;
  const ec2: Record<string, [string, number]> = {
    natgateway: ["AWS::EC2::NatGateway", 2],
    "launch-template": ["AWS::EC2::LaunchTemplate", 3],
    "security-group": ["AWS::EC2::SecurityGroup", 4],
    "route-table": ["AWS::EC2::RouteTable", 4],
    "internet-gateway": ["AWS::EC2::InternetGateway", 4],
    subnet: ["AWS::EC2::Subnet", 5],
    vpc: ["AWS::EC2::VPC", 6],
  };
  switch (service) {
    case "eks": {
      const ng = slash("nodegroup");
      if (ng)
        return { typeName: "AWS::EKS::Nodegroup", identifier: ng.split("/").slice(0, 2).join("|"), rank: 0 };
      const addon = slash("addon");
      if (addon)
        return { typeName: "AWS::EKS::Addon", identifier: addon.split("/").slice(0, 2).join("|"), rank: 0 };
      const cluster = slash("cluster");
      if (cluster) return { typeName: "AWS::EKS::Cluster", identifier: cluster, rank: 1 };
      return undefined;
    }
    case "ec2": {
      const [type, id] = resource.split("/");
      const known = type !== undefined ? ec2[type] : undefined;
      return known && id ? { typeName: known[0], identifier: id, rank: known[1] } : undefined;
    }
    case "s3":
      return resource.includes("/")
        ? undefined
        : { typeName: "AWS::S3::Bucket", identifier: resource, rank: 3 };
    case "logs": {
      const name = resource.startsWith("log-group:")
        ? resource.slice("log-group:".length).replace(/:\*$/, "")
        : undefined;
      return name ? { typeName: "AWS::Logs::LogGroup", identifier: name, rank: 3 } : undefined;
    }
    case "kms": {
      const id = slash("key");
      return id ? { typeName: "AWS::KMS::Key", identifier: id, rank: 3 } : undefined;
    }
    case "iam": {
      const role = slash("role");
      if (role) return { typeName: "AWS::IAM::Role", identifier: role.split("/").pop()!, rank: 7 };
      if (resource.startsWith("oidc-provider/"))
        return { typeName: "AWS::IAM::OIDCProvider", identifier: arn, rank: 7 };
      return undefined;
    }
    default:
      return undefined;
  }
}
