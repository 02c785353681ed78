/**
 * EC2 instance types a tier's node group may use, and the pure chooser that picks one from a
 * tier's figures (cores, memory). One table, read by the cluster component (which type to run)
 * and by the policy pack (which types a tier may run).
 *
 * "Cores" are what Kubernetes schedules as one CPU: a vCPU. Memory figures in the tier catalog are
 * decimal GB (the seed's "16 GB"); instance memory is GiB, so 16 GB fits in 16 GiB.
 */

export type InstanceFamily = "m6i" | "r6i" | "c6i";

export interface InstanceType {
  readonly name: string;
  readonly family: InstanceFamily;
  readonly vcpu: number;
  readonly memoryGiB: number;
}

/** Families in order of preference when two types fit equally well: general purpose first. */
export const INSTANCE_FAMILIES: readonly InstanceFamily[] = ["m6i", "r6i", "c6i"];

/** Memory per vCPU of each family (GiB): m 4, r 8, c 2. Sizes share one vCPU ladder. */
const GIB_PER_VCPU: Readonly<Record<InstanceFamily, number>> = { m6i: 4, r6i: 8, c6i: 2 };
const SIZES: readonly (readonly [string, number])[] = [
  ["large", 2],
  ["xlarge", 4],
  ["2xlarge", 8],
  ["4xlarge", 16],
  ["8xlarge", 32],
  ["12xlarge", 48],
  ["16xlarge", 64],
  ["24xlarge", 96],
  ["32xlarge", 128],
];

/** Every type of the three Intel 6th-generation families, large to 32xlarge (AWS's published figures). */
export const INSTANCE_TYPES: readonly InstanceType[] = INSTANCE_FAMILIES.flatMap((family) =>
  SIZES.map(([size, vcpu]) => ({
    name: `${family}.${size}`,
    family,
    vcpu,
    memoryGiB: vcpu * GIB_PER_VCPU[family],
  })),
);

/** What a node must have: the tier's cores and memory. */
export interface NodeRequirement {
  readonly cpuCores: number;
  /** Decimal gigabytes, as the tier catalog writes memory. */
  readonly memoryGb: number;
}

const GIB = 2 ** 30;

/** Whether `type` has at least the cores and memory asked for. */
export function satisfies(type: InstanceType, need: NodeRequirement): boolean {
  return type.vcpu >= need.cpuCores && type.memoryGiB * GIB >= need.memoryGb * 1e9;
}

/** Every type that satisfies `need`, smallest first (fewest vCPU, then least memory, then family order). */
export function eligibleInstanceTypes(need: NodeRequirement): InstanceType[] {
  return INSTANCE_TYPES.filter((t) => satisfies(t, need)).sort(
    (a, b) =>
      a.vcpu - b.vcpu ||
      a.memoryGiB - b.memoryGiB ||
      INSTANCE_FAMILIES.indexOf(a.family) - INSTANCE_FAMILIES.indexOf(b.family),
  );
}

/**
 * The smallest type with at least the tier's cores and memory: the least capacity paid for beyond
 * what the catalog asks. Returns `undefined` when nothing in the table is large enough.
 */
export function chooseInstanceType(need: NodeRequirement): InstanceType | undefined {
  return eligibleInstanceTypes(need)[0];
}

export function instanceTypeByName(name: string): InstanceType | undefined {
  return INSTANCE_TYPES.find((t) => t.name === name);
}
