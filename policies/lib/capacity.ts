/**
 * What a tier may spend, from the tier catalog (tiers/), computed exactly as the cluster component
 * sizes node groups (tiers/infra/sizing.ts):
 *
 *   cap(tier) = regions(tier) × maxSize × (vCPU, memory) of the chosen instance type
 *
 * where regions is the tier's region count, maxSize the node group ceiling (the scaling-matrix row
 * of the heaviest phase the tier runs) and the type the smallest with the tier's cores and memory.
 * A shipped stack sits exactly at its cap: the policy allows no node beyond what the catalog sizes.
 */
import type { Catalog } from "../../tiers/catalog.js";
import {
  eligibleInstanceTypes,
  instanceTypeByName,
  type InstanceType,
} from "../../tiers/infra/instance-types.js";
import { sizeNodeGroup } from "../../tiers/infra/sizing.js";
import { TIER_NAMES, type TierName } from "../../tiers/schema/names.js";

export interface TierCap {
  readonly tier: TierName;
  readonly regions: number;
  readonly maxNodes: number;
  readonly instanceType: InstanceType;
  readonly vcpu: number;
  readonly memoryGiB: number;
}

export function tierCap(catalog: Catalog, tier: TierName): TierCap {
  const sizing = sizeNodeGroup(catalog, tier);
  const regions = catalog.tiers[tier].regions;
  return {
    tier,
    regions,
    maxNodes: sizing.maxSize,
    instanceType: sizing.instanceType,
    vcpu: regions * sizing.maxSize * sizing.instanceType.vcpu,
    memoryGiB: regions * sizing.maxSize * sizing.instanceType.memoryGiB,
  };
}

/**
 * The instance types a tier's nodes may use: those with the tier's cores and memory and the fewest
 * vCPU (the chooser's size class: for base m6i.xlarge and r6i.xlarge). A larger memory family
 * is allowed; the capacity policy still holds the total to the cap.
 */
export function allowedInstanceTypes(catalog: Catalog, tier: TierName): string[] {
  const compute = catalog.tiers[tier].compute;
  const eligible = eligibleInstanceTypes({ cpuCores: compute.cpu_cores, memoryGb: compute.memory_gb });
  const smallest = eligible[0]?.vcpu;
  return eligible.filter((t) => t.vcpu === smallest).map((t) => t.name);
}

export function allowedInstanceTypesByTier(catalog: Catalog): Record<TierName, string[]> {
  return Object.fromEntries(TIER_NAMES.map((t) => [t, allowedInstanceTypes(catalog, t)])) as Record<
    TierName,
    string[]
  >;
}

export { instanceTypeByName };
