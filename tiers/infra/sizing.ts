/**
 * How a tier's catalog figures become a region's node group and its environments' share of it.
 * Pure: the cluster component, the stack program and the policy pack read the same numbers.
 */
import type { Catalog } from "../catalog.js";
import type { PhaseName, TierName } from "../schema/names.js";
import type { TierSpec } from "../schema/catalog.js";
import { parseBytes } from "../units.js";
import { chooseInstanceType, type InstanceType } from "./instance-types.js";

/** CPU in millicores and memory in bytes, as the plan writes an environment's resources. */
export interface Resources {
  readonly cpu_millis: number;
  readonly memory_bytes: number;
}

export type VolumeType = "gp3" | "standard";

/** The node's root volume for a storage medium of the catalog. */
export interface VolumeSpec {
  readonly type: VolumeType;
  /** Provisioned IOPS and throughput (MiB/s); gp3 only. */
  readonly iops?: number;
  readonly throughputMiBps?: number;
}

/**
 * EBS has no "NVMe" class: on Nitro instances every EBS volume is attached over NVMe. `ssd` is gp3 at
 * its included baseline (3,000 IOPS, 125 MiB/s); `nvme` is gp3 provisioned to its ceiling (16,000 IOPS,
 * 1,000 MiB/s); `hdd` is the magnetic `standard` type (the only magnetic type allowed as a root volume).
 */
export const VOLUME_FOR_MEDIA: Readonly<Record<TierSpec["compute"]["storage_media"], VolumeSpec>> = {
  ssd: { type: "gp3", iops: 3000, throughputMiBps: 125 },
  nvme: { type: "gp3", iops: 16000, throughputMiBps: 1000 },
  hdd: { type: "standard" },
};

/** A region's managed node group, derived from the tier. */
export interface NodeGroupSizing {
  readonly instanceType: InstanceType;
  /** The tier's `instances`: the floor ("50+" for ultimate) and the starting size. */
  readonly minSize: number;
  readonly desiredSize: number;
  /** The scaling-matrix row of the heaviest phase the tier runs (never below `minSize`). */
  readonly maxSize: number;
  /** Which phase's matrix row set `maxSize`. */
  readonly maxFrom: PhaseName;
  /** Root volume size in GiB: the tier's decimal `storage_gb`, rounded up. */
  readonly volumeSizeGiB: number;
  readonly volume: VolumeSpec;
}

const GIB = 2 ** 30;

/** Decimal gigabytes → whole GiB, rounded up (500 GB → 466 GiB). */
export function gbToGiB(gb: number): number {
  return Math.ceil((gb * 1e9) / GIB);
}

/**
 * The node group of one region of `tier`. Throws when no instance type of the table is large
 * enough (a catalog error, caught by the catalog tests).
 */
export function sizeNodeGroup(catalog: Catalog, tier: TierName): NodeGroupSizing {
  const spec = catalog.tiers[tier];
  const instanceType = chooseInstanceType({
    cpuCores: spec.compute.cpu_cores,
    memoryGb: spec.compute.memory_gb,
  });
  if (!instanceType) {
    throw new Error(
      `no instance type has ${spec.compute.cpu_cores} vCPU and ${spec.compute.memory_gb} GB (tier ${tier})`,
    );
  }
  const heaviest = [...spec.phases].reverse().find((p) => catalog.phases[p].scaling !== null);
  if (heaviest === undefined) throw new Error(`tier ${tier} runs no phase with a scaling-matrix row`);
  const row = catalog.phases[heaviest].scaling!;
  return {
    instanceType,
    minSize: spec.compute.instances,
    desiredSize: spec.compute.instances,
    maxSize: Math.max(spec.compute.instances, row.instances),
    maxFrom: heaviest,
    volumeSizeGiB: gbToGiB(spec.compute.storage_gb),
    volume: VOLUME_FOR_MEDIA[spec.compute.storage_media],
  };
}

/**
 * The part of a node's vCPU and memory that pods may use: kubelet and system reserves, the eviction
 * threshold and the per-node DaemonSets (VPC CNI with its network-policy agent, kube-proxy, EBS CSI
 * node) take the rest. EKS's own reserve formula leaves ~94-98 % of CPU and ~88-93 % of memory on
 * these sizes before DaemonSets; 90 % / 85 % keeps a margin for them.
 */
export const NODE_USABLE_FRACTION = { cpu: 0.9, memory: 0.85 } as const;

/**
 * The share of a region's usable capacity its isolated environments divide among themselves. The
 * other 20 % is kept for the platform namespaces later issues add (monitoring, chaos, Argo, k6).
 */
export const ENVIRONMENT_FRACTION = 0.8;

/** What one node offers pods. Also the largest container a LimitRange lets an environment run. */
export function nodeUsable(type: InstanceType): Resources {
  return {
    cpu_millis: Math.floor(type.vcpu * 1000 * NODE_USABLE_FRACTION.cpu),
    memory_bytes: Math.floor(type.memoryGiB * GIB * NODE_USABLE_FRACTION.memory),
  };
}

/** What a region's environments share: the node group at its desired size, times the fractions. */
export function environmentCapacity(sizing: NodeGroupSizing): Resources {
  const node = nodeUsable(sizing.instanceType);
  return {
    cpu_millis: Math.floor(node.cpu_millis * sizing.desiredSize * ENVIRONMENT_FRACTION),
    memory_bytes: Math.floor(node.memory_bytes * sizing.desiredSize * ENVIRONMENT_FRACTION),
  };
}

export interface ShareRequest {
  readonly id: string;
  /** Resources the stack config gives this environment; the others split what is left evenly. */
  readonly explicit?: Resources;
}

export type ShareResult =
  | { readonly ok: true; readonly quotas: ReadonlyMap<string, Resources> }
  | { readonly ok: false; readonly problem: string };

/**
 * Divides `capacity` among environments: explicit resources are taken as given, the rest is split
 * evenly (floored to whole millicores and MiB). Fails when the explicit ones alone exceed the capacity,
 * or when nothing is left for the others.
 */
export function shareCapacity(capacity: Resources, requests: readonly ShareRequest[]): ShareResult {
  let cpu = capacity.cpu_millis;
  let memory = capacity.memory_bytes;
  for (const r of requests) {
    if (r.explicit) {
      cpu -= r.explicit.cpu_millis;
      memory -= r.explicit.memory_bytes;
    }
  }
  if (cpu < 0 || memory < 0) {
    return {
      ok: false,
      problem: `the environments ask for ${formatResources(sum(requests.map((r) => r.explicit)))} but the region offers ${formatResources(capacity)}`,
    };
  }
  const implicit = requests.filter((r) => !r.explicit);
  const quotas = new Map<string, Resources>();
  const each: Resources | undefined =
    implicit.length > 0
      ? {
          cpu_millis: Math.floor(cpu / implicit.length),
          memory_bytes: Math.floor(memory / implicit.length / 2 ** 20) * 2 ** 20,
        }
      : undefined;
  if (each && (each.cpu_millis < 1 || each.memory_bytes < 2 ** 20)) {
    return {
      ok: false,
      problem: `nothing is left for ${implicit.map((r) => r.id).join(", ")} after the environments with explicit resources`,
    };
  }
  for (const r of requests) quotas.set(r.id, r.explicit ?? each!);
  return { ok: true, quotas };
}

function sum(list: readonly (Resources | undefined)[]): Resources {
  return list.reduce<Resources>(
    (a, r) => ({
      cpu_millis: a.cpu_millis + (r?.cpu_millis ?? 0),
      memory_bytes: a.memory_bytes + (r?.memory_bytes ?? 0),
    }),
    { cpu_millis: 0, memory_bytes: 0 },
  );
}

/** Kubernetes quantity of CPU: whole cores when exact, else millicores. */
export function cpuQuantity(millis: number): string {
  return millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`;
}

/** Kubernetes quantity of memory in Gi when exact, else Mi (floored to whole MiB). */
export function memoryQuantity(bytes: number): string {
  return bytes % GIB === 0 ? `${bytes / GIB}Gi` : `${Math.floor(bytes / 2 ** 20)}Mi`;
}

export function formatResources(r: Resources): string {
  return `${cpuQuantity(r.cpu_millis)} CPU, ${memoryQuantity(r.memory_bytes)} memory`;
}

/**
 * Reads `{cpu, memory}` as stack and suite files write it (cores or "500m"; "16Gi", "512Mi", "16GB")
 * into millicores and bytes; `undefined` when either cannot be read or is zero.
 */
export function parseResources(spec: {
  readonly cpu: number | string;
  readonly memory: string;
}): Resources | undefined {
  const cpu_millis =
    typeof spec.cpu === "number"
      ? Math.round(spec.cpu * 1000)
      : /^\d+m$/.test(spec.cpu)
        ? Number(spec.cpu.slice(0, -1))
        : NaN;
  const memory = parseBytes(spec.memory.replace(/\s+/g, ""));
  if (!(cpu_millis >= 1) || memory === undefined || memory < 1) return undefined;
  return { cpu_millis, memory_bytes: Math.round(memory) };
}
