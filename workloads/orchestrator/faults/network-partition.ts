import type { FaultInjector } from "./injector.js";
import type { FaultProxy, PartitionMode } from "./network-proxy.js";

/**
 * network_partition through the SUT's fault proxy: `refuse` (default) resets every connection and
 * refuses new ones; `blackhole` keeps them but forwards nothing, so clients hang until their own
 * timeouts, like NetworkChaos's partition dropping packets.
 */
export class NetworkPartitionInjector implements FaultInjector {
  readonly scenario = "network_partition";
  private before: PartitionMode | undefined;

  constructor(
    private readonly proxy: FaultProxy | undefined,
    private readonly mode: Exclude<PartitionMode, false> = "refuse",
  ) {}

  unavailable(): string | undefined {
    return this.proxy ? undefined : "no fault proxy in front of the SUT";
  }

  apply(): Promise<Record<string, unknown>> {
    const { previous, reset } = this.proxy!.update({ partition: this.mode });
    this.before = previous.partition;
    return Promise.resolve({ mode: this.mode, proxy_port: this.proxy!.port, reset_connections: reset });
  }

  undo(): Promise<Record<string, unknown>> {
    if (this.before === undefined || !this.proxy) return Promise.resolve({ healed: false });
    const { reset } = this.proxy.update({ partition: this.before });
    this.before = undefined;
    return Promise.resolve({ healed: true, reset_connections: reset });
  }
}
