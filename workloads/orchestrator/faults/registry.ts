import type { ChaosScenario } from "../../../tiers/schema/names.js";
import type { FakeClock } from "../../sut/supervisor.js";
import { ClockSkewInjector } from "./clock-skew.js";
import { DiskFailureInjector } from "./disk-failure.js";
import type { FaultInjector } from "./injector.js";
import { NetworkPartitionInjector } from "./network-partition.js";
import type { FaultProxy } from "./network-proxy.js";
import { PodKillInjector } from "./pod-kill.js";
import { ResourceStarvationInjector, type StarvationOptions } from "./resource-starvation.js";
import type { SutHandle } from "./sut-handle.js";

/** What the local target has around its SUT, for the chaos phase's injectors. */
export interface LocalFaultEnvironment {
  readonly sut: SutHandle;
  /** The SUT's base URL (for the clock check). */
  readonly sutUrl: string;
  readonly proxy?: FaultProxy;
  readonly storageDir?: string;
  readonly clock?: FakeClock;
  /** How far clock_skew moves the SUT's clock, seconds (default +300: 5 minutes ahead). */
  readonly clockSkewS?: number;
  readonly starvation?: StarvationOptions;
}

/** One injector per seed 001 chaos scenario: a scenario without one is a compile error. */
const FACTORIES: Readonly<Record<ChaosScenario, (env: LocalFaultEnvironment) => FaultInjector>> = {
  pod_kill: (env) => new PodKillInjector(env.sut),
  network_partition: (env) => new NetworkPartitionInjector(env.proxy),
  resource_starvation: (env) => new ResourceStarvationInjector(env.starvation),
  clock_skew: (env) =>
    new ClockSkewInjector(env.clock, env.clockSkewS ?? 300, new URL("/healthz", env.sutUrl).toString()),
  disk_failure: (env) => new DiskFailureInjector(env.storageDir),
};

/** The local injector for a plan fault's scenario. */
export function createLocalInjector(scenario: ChaosScenario, env: LocalFaultEnvironment): FaultInjector {
  return FACTORIES[scenario](env);
}
