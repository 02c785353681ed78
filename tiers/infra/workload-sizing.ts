/**
 * What each workload of an isolated environment requests and is limited to, inside the
 * environment's quota. Pure, shared by the stack program (to refuse a config that cannot fit) and
 * the environment component (to write the figures).
 */
import { formatResources, type Resources } from "./sizing.js";

export interface ContainerResources {
  readonly requests: Resources;
  readonly limits: Resources;
}

const MI = 2 ** 20;

/** The orchestrator: cycle controller, SQLite writer, HTTP API, bundle export. The tools do the heavy work. */
export const ORCHESTRATOR_RESOURCES: ContainerResources = {
  requests: { cpu_millis: 250, memory_bytes: 256 * MI },
  limits: { cpu_millis: 1000, memory_bytes: 1024 * MI },
};

/** The iperf3 server: single-threaded, so one core is all it can use. */
export const IPERF3_RESOURCES: ContainerResources = {
  requests: { cpu_millis: 250, memory_bytes: 64 * MI },
  limits: { cpu_millis: 1000, memory_bytes: 256 * MI },
};

/** LimitRange defaults for a container that declares nothing (later adapter pods declare their own). */
export const CONTAINER_DEFAULTS: ContainerResources = {
  requests: { cpu_millis: 100, memory_bytes: 128 * MI },
  limits: { cpu_millis: 500, memory_bytes: 512 * MI },
};

/** The least a SUT replica may get: below this a measurement measures the limit, not the SUT. */
export const MIN_SUT_RESOURCES: Resources = { cpu_millis: 100, memory_bytes: 128 * MI };

/**
 * Of what is left after the fixed workloads, the SUT gets this fraction by default; the rest stays
 * free for the load generators and adapter pods that run beside it during a cycle.
 */
export const SUT_FRACTION = 0.5;

export interface WorkloadSizes {
  readonly orchestrator: ContainerResources;
  readonly iperf3: ContainerResources;
  /** Per replica; requests equal limits (Guaranteed QoS) so measurements are not disturbed by neighbours. */
  readonly sut: ContainerResources;
}

export type WorkloadSizing =
  { readonly ok: true; readonly sizes: WorkloadSizes } | { readonly ok: false; readonly problem: string };

/**
 * Sizes the environment's workloads inside `quota`. The quota bounds limits (requests equal limits
 * at the quota level), so the fixed workloads' limits plus every SUT replica must fit. `maxContainer`
 * (what one node offers) caps the SUT's default size.
 */
export function sizeWorkloads(
  quota: Resources,
  sut: { readonly replicas: number; readonly explicit?: Resources },
  maxContainer?: Resources,
): WorkloadSizing {
  const fixed = {
    cpu_millis: ORCHESTRATOR_RESOURCES.limits.cpu_millis + IPERF3_RESOURCES.limits.cpu_millis,
    memory_bytes: ORCHESTRATOR_RESOURCES.limits.memory_bytes + IPERF3_RESOURCES.limits.memory_bytes,
  };
  const left = {
    cpu_millis: quota.cpu_millis - fixed.cpu_millis,
    memory_bytes: quota.memory_bytes - fixed.memory_bytes,
  };
  let perReplica: Resources;
  if (sut.explicit) {
    perReplica = sut.explicit;
    const total = {
      cpu_millis: perReplica.cpu_millis * sut.replicas,
      memory_bytes: perReplica.memory_bytes * sut.replicas,
    };
    if (total.cpu_millis > left.cpu_millis || total.memory_bytes > left.memory_bytes) {
      return {
        ok: false,
        problem: `${sut.replicas} SUT replica(s) of ${formatResources(perReplica)} do not fit: the quota is ${formatResources(quota)} and the orchestrator and iperf3 server take ${formatResources(fixed)}`,
      };
    }
  } else {
    perReplica = {
      cpu_millis: Math.floor((left.cpu_millis * SUT_FRACTION) / sut.replicas),
      memory_bytes: Math.floor((left.memory_bytes * SUT_FRACTION) / sut.replicas / MI) * MI,
    };
    if (maxContainer) {
      perReplica = {
        cpu_millis: Math.min(perReplica.cpu_millis, maxContainer.cpu_millis),
        memory_bytes: Math.min(perReplica.memory_bytes, maxContainer.memory_bytes),
      };
    }
    if (
      perReplica.cpu_millis < MIN_SUT_RESOURCES.cpu_millis ||
      perReplica.memory_bytes < MIN_SUT_RESOURCES.memory_bytes
    ) {
      return {
        ok: false,
        problem: `a quota of ${formatResources(quota)} leaves too little for the SUT: the orchestrator and iperf3 server take ${formatResources(fixed)} and each SUT replica needs at least ${formatResources(
          {
            cpu_millis: MIN_SUT_RESOURCES.cpu_millis / SUT_FRACTION,
            memory_bytes: MIN_SUT_RESOURCES.memory_bytes / SUT_FRACTION,
          },
        )} more`,
      };
    }
  }
  return {
    ok: true,
    sizes: {
      orchestrator: ORCHESTRATOR_RESOURCES,
      iperf3: IPERF3_RESOURCES,
      sut: { requests: perReplica, limits: perReplica },
    },
  };
}
