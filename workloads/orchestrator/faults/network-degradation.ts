import type { FaultInjector } from "./injector.js";
import type { FaultProxy, ProxyConditions } from "./network-proxy.js";

/**
 * network_delay (a local extra beside the seed's five scenarios): latency with jitter and/or a
 * bandwidth cap on the SUT's fault proxy for the window; the undo restores exactly what was set
 * before (a region's simulated latency stays).
 */
export class NetworkDegradationInjector implements FaultInjector {
  readonly scenario = "network_delay";
  private before: ProxyConditions | undefined;

  constructor(
    private readonly proxy: FaultProxy | undefined,
    private readonly change: Partial<
      Pick<ProxyConditions, "latencyMs" | "jitterMs" | "bandwidthBytesPerSec">
    >,
  ) {}

  unavailable(): string | undefined {
    return this.proxy ? undefined : "no fault proxy in front of the SUT";
  }

  apply(): Promise<Record<string, unknown>> {
    this.before = this.proxy!.update(this.change).previous;
    const c = this.proxy!.conditions;
    return Promise.resolve({
      latency_ms: c.latencyMs,
      jitter_ms: c.jitterMs,
      bandwidth_bytes_per_sec: c.bandwidthBytesPerSec,
    });
  }

  undo(): Promise<Record<string, unknown>> {
    if (!this.before || !this.proxy) return Promise.resolve({ restored: false });
    const { latencyMs, jitterMs, bandwidthBytesPerSec } = this.before;
    this.proxy.update({ latencyMs, jitterMs, bandwidthBytesPerSec });
    this.before = undefined;
    return Promise.resolve({
      restored: true,
      latency_ms: latencyMs,
      jitter_ms: jitterMs,
      bandwidth_bytes_per_sec: bandwidthBytesPerSec,
    });
  }
}
