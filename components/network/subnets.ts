import { formatCidr, parseCidr, subnet } from "./cidr.js";

/** VPC sizes the layout supports: /16 (65,536 addresses) to /20 (4,096). */
export const VPC_PREFIX_RANGE = { min: 16, max: 20 } as const;
/** One subnet pair per availability zone; no AWS region has more than 6 zones in one VPC's reach. */
export const AZ_COUNT_RANGE = { min: 1, max: 6 } as const;

export interface SubnetLayout {
  /** One per zone: an eighth of the VPC each (/19 of a /16), where nodes and pods live (VPC CNI gives pods VPC addresses). */
  readonly private: readonly string[];
  /** One per zone: a /24 of a /16 each, carved from the VPC's last eighth; NAT gateways live here. */
  readonly public: readonly string[];
}

/**
 * Splits a VPC into private and public subnets per zone (as awsx's subnet distributor does, but
 * fixed-shape): private subnets take eighths 0…n-1, public subnets take the first n /(p+8) networks of
 * the last eighth. Nothing overlaps and everything lies inside the VPC (tested as a property).
 * Throws a `RangeError` naming the problem for a CIDR or zone count outside the supported ranges.
 */
export function layoutSubnets(vpcCidr: string, zones: number): SubnetLayout {
  const vpc = parseCidr(vpcCidr);
  if (!vpc)
    throw new RangeError(`${JSON.stringify(vpcCidr)} is not an aligned IPv4 CIDR such as 10.0.0.0/16`);
  if (vpc.prefix < VPC_PREFIX_RANGE.min || vpc.prefix > VPC_PREFIX_RANGE.max) {
    throw new RangeError(
      `a /${vpc.prefix} VPC is outside the supported /${VPC_PREFIX_RANGE.min} to /${VPC_PREFIX_RANGE.max}`,
    );
  }
  if (!Number.isInteger(zones) || zones < AZ_COUNT_RANGE.min || zones > AZ_COUNT_RANGE.max) {
    throw new RangeError(`${zones} zones is outside ${AZ_COUNT_RANGE.min} to ${AZ_COUNT_RANGE.max}`);
  }
  const lastEighth = subnet(vpc, 3, 7);
  return {
    private: Array.from({ length: zones }, (_, i) => formatCidr(subnet(vpc, 3, i))),
    public: Array.from({ length: zones }, (_, i) => formatCidr(subnet(lastEighth, 5, i))),
  };
}
