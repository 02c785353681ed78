import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";

/** One side of a peering: its region's provider, VPC, CIDR and private route tables. */
export interface PeeringSide {
  readonly region: string;
  readonly provider: aws.Provider;
  readonly vpcId: pulumi.Input<string>;
  readonly cidr: pulumi.Input<string>;
  readonly routeTableIds: readonly pulumi.Input<string>[];
}

/**
 * A cross-region VPC peering (seed 001's private backbone) from `requester` to `accepter`, accepted
 * in the accepter's region, with a route to the other side's CIDR in every private route table of
 * both. Only the secondary and tertiary regions' remote writes to the primary's Prometheus use it.
 */
export function createVpcPeering(
  name: string,
  requester: PeeringSide,
  accepter: PeeringSide,
  parent: pulumi.Resource,
): aws.ec2.VpcPeeringConnection {
  const connection = new aws.ec2.VpcPeeringConnection(
    name,
    {
      vpcId: requester.vpcId,
      peerVpcId: accepter.vpcId,
      peerRegion: accepter.region,
      autoAccept: false,
      tags: { Name: name },
    },
    { parent, provider: requester.provider },
  );
  const accepted = new aws.ec2.VpcPeeringConnectionAccepter(
    `${name}-accept`,
    { vpcPeeringConnectionId: connection.id, autoAccept: true, tags: { Name: name } },
    { parent, provider: accepter.provider },
  );
  const routes = (side: PeeringSide, other: PeeringSide, label: string): void =>
    side.routeTableIds.forEach((routeTableId, i) => {
      new aws.ec2.Route(
        `${name}-${label}-${i + 1}`,
        { routeTableId, destinationCidrBlock: other.cidr, vpcPeeringConnectionId: connection.id },
        { parent, provider: side.provider, dependsOn: [accepted] },
      );
    });
  routes(requester, accepter, "requester");
  routes(accepter, requester, "accepter");
  return connection;
}
