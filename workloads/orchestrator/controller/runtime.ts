import type { ClusterFaults } from "../faults/chaos-mesh/injector.js";
import type { LocalFaultEnvironment } from "../faults/registry.js";
import type { LoadEngine } from "../load/engine.js";

/**
 * What an environment has around its cycle: where the load goes, the SUT's processes for the
 * sampler, the local fault injectors' handles, and its directories. The local target builds one
 * around a supervised sample SUT and a fault proxy; the cluster target around a SUT Service.
 */
export interface EnvironmentRuntime {
  /** Base URL the phase load and HTTP tests aim at (through the fault proxy when there is one). */
  readonly targetUrl: string;
  /** The SUT's own health URL (not through the proxy: a partition must not look like a dead SUT). */
  readonly healthUrl: string;
  readonly rawDir: string;
  readonly scratchDir: string;
  readonly iperf3Server?: { readonly host: string; readonly port: number };
  /** Root pids of the SUT's process trees, asked at every sample (none for an external SUT). */
  readonly sampleRoots: () => readonly (number | undefined)[];
  /**
   * An external SUT's Prometheus exposition (`<sut>/metrics`): sampled for its process CPU and RSS
   * where `sampleRoots` has no process to read (a container or a pod of its own).
   */
  readonly sutMetricsUrl?: string;
  /** Cores the SUT may use: 100 % CPU means all of them busy. */
  readonly cores: number;
  /** The local injectors' handles; undefined where faults are injected by something else (Chaos Mesh). */
  readonly faults?: LocalFaultEnvironment;
  /** The cluster target's injectors (Chaos Mesh), when the SUT is external and TIERS_FAULTS=chaos-mesh. */
  readonly cluster?: ClusterFaults;
  /** Why faults cannot be injected here, when neither `faults` nor `cluster` is set. */
  readonly faultsUnavailable?: string;
  /** Where HTTP load is generated (worker processes, a Job's pods); absent: in this process. */
  readonly load?: LoadEngine;
}

/** GET `url` within `timeoutMs`; true for a 2xx answer. */
export async function isHealthy(url: string, timeoutMs = 2000): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

/** Polls `url` until healthy; resolves with the ms it took, or null after `withinMs`. */
export async function waitHealthy(url: string, withinMs: number, everyMs = 100): Promise<number | null> {
  const start = Date.now();
  for (;;) {
    if (await isHealthy(url, Math.min(2000, Math.max(100, withinMs)))) return Date.now() - start;
    if (Date.now() - start >= withinMs) return null;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
