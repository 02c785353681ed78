import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { argsError } from "../shared/args-error.js";
import { childrenOf, type Children } from "../shared/children.js";
import { createFlowLogs } from "./flow-logs.js";
import { AZ_COUNT_RANGE, layoutSubnets } from "./subnets.js";

export const REGION_NETWORK_TYPE = "tiers:network:RegionNetwork";

export interface RegionNetworkArgs {
  /** AWS region code; the provider passed with these args must be for the same region. */
  readonly region: string;
  /**
   * The VPC's CIDR (/16 to /20).
   * @default "10.0.0.0/16"
   */
  readonly cidr?: string;
  /**
   * How many availability zones get a private and a public subnet (names come from the region's
   * `getAvailabilityZones`).
   * @default 3
   */
  readonly availabilityZones?: number;
  /**
   * One NAT gateway for the VPC, or one per zone (survives a zone outage, costs one gateway per zone).
   * @default "single"
   */
  readonly natGateways?: "single" | "perAz";
  /**
   * Days the VPC flow logs are kept in CloudWatch Logs.
   * @default 7
   */
  readonly flowLogRetentionDays?: number;
  /**
   * Adopt this existing VPC instead of creating one. Its private subnets are those tagged
   * `kubernetes.io/role/internal-elb=1` (the EKS convention); nothing in it is modified.
   */
  readonly existingVpcId?: string;
}

export interface RegionNetworkOutputs {
  readonly vpcId: pulumi.Output<string>;
  readonly cidr: pulumi.Output<string>;
  readonly privateSubnetIds: pulumi.Output<string[]>;
  /** The private subnets' route tables (a created VPC only: an adopted VPC's routes are its owner's). */
  readonly privateRouteTableIds?: readonly pulumi.Output<string>[];
}

/** A region's network: a VPC with public/private subnets over its zones, NAT and flow logs; or an adopted VPC. */
export class RegionNetwork extends pulumi.ComponentResource implements RegionNetworkOutputs {
  public readonly vpcId: pulumi.Output<string>;
  public readonly cidr: pulumi.Output<string>;
  public readonly privateSubnetIds: pulumi.Output<string[]>;
  public readonly privateRouteTableIds?: readonly pulumi.Output<string>[];

  constructor(
    name: string,
    args: RegionNetworkArgs,
    provider: aws.Provider,
    opts: pulumi.ComponentResourceOptions = {},
  ) {
    validateRegionNetworkArgs(name, args);
    super(REGION_NETWORK_TYPE, name, {}, opts);
    const out = createRegionNetwork(name, args, this, provider);
    this.vpcId = out.vpcId;
    this.cidr = out.cidr;
    this.privateSubnetIds = out.privateSubnetIds;
    if (out.privateRouteTableIds) this.privateRouteTableIds = out.privateRouteTableIds;
    this.registerOutputs({ vpcId: this.vpcId, cidr: this.cidr, privateSubnetIds: this.privateSubnetIds });
  }
}

/** Throws naming the field, value and allowed values. */
export function validateRegionNetworkArgs(name: string, args: RegionNetworkArgs): void {
  const zones = args.availabilityZones ?? 3;
  if (!Number.isInteger(zones) || zones < AZ_COUNT_RANGE.min || zones > AZ_COUNT_RANGE.max) {
    throw argsError(
      REGION_NETWORK_TYPE,
      name,
      "availabilityZones",
      "is out of range",
      zones,
      `an integer from ${AZ_COUNT_RANGE.min} to ${AZ_COUNT_RANGE.max}`,
    );
  }
  if (args.existingVpcId !== undefined) {
    if (!/^vpc-[0-9a-f]{8,17}$/.test(args.existingVpcId)) {
      throw argsError(
        REGION_NETWORK_TYPE,
        name,
        "existingVpcId",
        "is not a VPC id",
        args.existingVpcId,
        "vpc-<8 or 17 hex digits>",
      );
    }
    return;
  }
  try {
    layoutSubnets(args.cidr ?? "10.0.0.0/16", zones);
  } catch (error) {
    throw argsError(
      REGION_NETWORK_TYPE,
      name,
      "cidr",
      (error as Error).message,
      args.cidr,
      "an aligned /16 to /20 IPv4 CIDR",
    );
  }
}

/** The testable core: creates (or adopts) the network under `parent`, every child with `provider`. */
export function createRegionNetwork(
  name: string,
  args: RegionNetworkArgs,
  parent: pulumi.Resource,
  provider: aws.Provider,
): RegionNetworkOutputs {
  const c = childrenOf(parent, name, provider);
  if (args.existingVpcId !== undefined) return adoptVpc(c, args.existingVpcId);

  const cidr = args.cidr ?? "10.0.0.0/16";
  const zones = args.availabilityZones ?? 3;
  const layout = layoutSubnets(cidr, zones);
  const azNames = aws.getAvailabilityZonesOutput({ state: "available" }, c.invokeOpts()).apply((r) => {
    if (r.names.length < zones) {
      throw new pulumi.ResourceError(
        `${args.region} has ${r.names.length} available zones, fewer than availabilityZones=${zones}`,
        parent,
      );
    }
    return r.names.slice(0, zones);
  });

  const vpc = new aws.ec2.Vpc(
    c.name("vpc"),
    { cidrBlock: cidr, enableDnsHostnames: true, enableDnsSupport: true, tags: { Name: c.name("vpc") } },
    c.opts(),
  );
  // No rule on the default security group: nothing may use it by accident (CIS AWS 5.4).
  new aws.ec2.DefaultSecurityGroup(
    c.name("default-sg"),
    { vpcId: vpc.id, tags: { Name: c.name("default") } },
    c.opts(),
  );
  const igw = new aws.ec2.InternetGateway(
    c.name("igw"),
    { vpcId: vpc.id, tags: { Name: c.name("igw") } },
    c.opts(),
  );

  // Load balancers (none in this issue) would find subnets by these EKS role tags.
  const subnets = (
    kind: "public" | "private",
    blocks: readonly string[],
    roleTag: string,
  ): aws.ec2.Subnet[] =>
    blocks.map(
      (block, i) =>
        new aws.ec2.Subnet(
          c.name(`${kind}-${i + 1}`),
          {
            vpcId: vpc.id,
            cidrBlock: block,
            availabilityZone: azNames.apply((n) => n[i]!),
            mapPublicIpOnLaunch: false,
            tags: { Name: c.name(`${kind}-${i + 1}`), [roleTag]: "1" },
          },
          c.opts(),
        ),
    );
  const publicSubnets = subnets("public", layout.public, "kubernetes.io/role/elb");
  const privateSubnets = subnets("private", layout.private, "kubernetes.io/role/internal-elb");

  const publicRoutes = new aws.ec2.RouteTable(
    c.name("public"),
    {
      vpcId: vpc.id,
      routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }],
      tags: { Name: c.name("public") },
    },
    c.opts(),
  );
  publicSubnets.forEach(
    (s, i) =>
      new aws.ec2.RouteTableAssociation(
        c.name(`public-${i + 1}`),
        { subnetId: s.id, routeTableId: publicRoutes.id },
        c.opts(),
      ),
  );

  const natCount = (args.natGateways ?? "single") === "perAz" ? zones : 1;
  const nats = Array.from({ length: natCount }, (_, i) => {
    const eip = new aws.ec2.Eip(
      c.name(`nat-${i + 1}`),
      { domain: "vpc", tags: { Name: c.name(`nat-${i + 1}`) } },
      c.opts(),
    );
    return new aws.ec2.NatGateway(
      c.name(`nat-${i + 1}`),
      { allocationId: eip.id, subnetId: publicSubnets[i]!.id, tags: { Name: c.name(`nat-${i + 1}`) } },
      c.opts({ dependsOn: [igw] }),
    );
  });
  const privateRoutes = privateSubnets.map((s, i) => {
    const table = new aws.ec2.RouteTable(
      c.name(`private-${i + 1}`),
      {
        vpcId: vpc.id,
        tags: { Name: c.name(`private-${i + 1}`) },
      },
      c.opts(),
    );
    // Routes as their own resources (never inline): the peering adds routes to these tables, and
    // inline routes would remove them.
    new aws.ec2.Route(
      c.name(`private-${i + 1}-nat`),
      {
        routeTableId: table.id,
        destinationCidrBlock: "0.0.0.0/0",
        natGatewayId: nats[Math.min(i, natCount - 1)]!.id,
      },
      c.opts(),
    );
    new aws.ec2.RouteTableAssociation(
      c.name(`private-${i + 1}`),
      { subnetId: s.id, routeTableId: table.id },
      c.opts(),
    );
    return table;
  });
  // S3 traffic (bundle uploads) stays on the AWS network and off the NAT gateways.
  new aws.ec2.VpcEndpoint(
    c.name("s3"),
    {
      vpcId: vpc.id,
      serviceName: `com.amazonaws.${args.region}.s3`,
      vpcEndpointType: "Gateway",
      routeTableIds: privateRoutes.map((t) => t.id),
      tags: { Name: c.name("s3") },
    },
    c.opts(),
  );
  createFlowLogs(c, vpc, args.flowLogRetentionDays ?? 7);

  return {
    vpcId: vpc.id,
    cidr: vpc.cidrBlock,
    privateSubnetIds: pulumi.all(privateSubnets.map((s) => s.id)),
    privateRouteTableIds: privateRoutes.map((t) => t.id),
  };
}

function adoptVpc(c: Children, vpcId: string): RegionNetworkOutputs {
  const vpc = aws.ec2.getVpcOutput({ id: vpcId }, c.invokeOpts());
  const subnets = aws.ec2.getSubnetsOutput(
    {
      filters: [
        { name: "vpc-id", values: [vpcId] },
        { name: "tag:kubernetes.io/role/internal-elb", values: ["1"] },
      ],
    },
    c.invokeOpts(),
  );
  return {
    vpcId: vpc.id,
    cidr: vpc.cidrBlock,
    privateSubnetIds: subnets.ids.apply((ids) => {
      if (ids.length === 0) {
        throw new pulumi.RunError(
          `VPC ${vpcId} has no subnet tagged kubernetes.io/role/internal-elb=1; tag its private subnets or let the stack create a VPC`,
        );
      }
      return [...ids].sort();
    }),
  };
}
