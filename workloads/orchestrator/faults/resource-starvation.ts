import { availableParallelism } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { findExecutable } from "../adapters/locate.js";
import { descendantsOf } from "../process/proc.js";
import { startRunning, type Running } from "../process/spawn.js";
import type { FaultContext, FaultInjector } from "./injector.js";

/**
 * resource_starvation: stress-ng CPU and VM hogs beside the SUT for the window (Chaos Mesh's
 * StressChaos does the same with stress-ng inside the pod's cgroup; here they share the machine).
 * stress-ng is given its own `--timeout` (the window plus a margin), so the hogs stop by themselves
 * even if the orchestrator dies; the undo stops the whole tree at once.
 */

export interface StarvationOptions {
  readonly binary?: string;
  /** CPU hogs; default one per CPU. */
  readonly cpuWorkers?: number;
  /** Percent load per CPU hog. */
  readonly cpuLoad?: number;
  /** VM hogs (0 for none). */
  readonly vmWorkers?: number;
  /** Memory per VM hog, stress-ng syntax ("256M", "10%"). */
  readonly vmBytes?: string;
  readonly path?: string;
}

export class ResourceStarvationInjector implements FaultInjector {
  readonly scenario = "resource_starvation";
  private running: Running | undefined;
  private executable: string | undefined;

  constructor(private readonly options: StarvationOptions = {}) {}

  async unavailable(): Promise<string | undefined> {
    this.executable = await findExecutable(
      this.options.binary ?? "stress-ng",
      this.options.path ?? process.env.PATH,
    );
    return this.executable ? undefined : "tool not installed: stress-ng (Debian package stress-ng)";
  }

  async apply(ctx: FaultContext): Promise<Record<string, unknown>> {
    const file = this.executable ?? (await findExecutable(this.options.binary ?? "stress-ng"));
    if (!file) throw new Error("stress-ng not found");
    const cpu = this.options.cpuWorkers ?? availableParallelism();
    const vm = this.options.vmWorkers ?? 1;
    const timeoutS = Math.ceil(ctx.durationMs / 1000) + 5;
    const args = ["--cpu", String(cpu), "--cpu-load", String(this.options.cpuLoad ?? 100)];
    if (vm > 0) args.push("--vm", String(vm), "--vm-bytes", this.options.vmBytes ?? "256M", "--vm-keep");
    args.push("--timeout", `${timeoutS}s`);
    const running = startRunning({ file, args });
    this.running = running;
    // Held once every hog runs (stress-ng forks them after setting up).
    const deadline = Date.now() + 10_000;
    while (descendantsOf(running.pid).length < cpu + vm && Date.now() < deadline) await sleep(25);
    const hogs = descendantsOf(running.pid).length;
    if (hogs < cpu + vm) throw new Error(`stress-ng started ${hogs} of ${cpu + vm} hogs within 10 s`);
    return {
      pid: running.pid,
      cpu_workers: cpu,
      cpu_load: this.options.cpuLoad ?? 100,
      vm_workers: vm,
      args,
      hogs,
    };
  }

  async undo(): Promise<Record<string, unknown>> {
    const running = this.running;
    if (!running) return { stopped: false };
    await running.stop();
    this.running = undefined;
    return { stopped: true, pid: running.pid };
  }
}
