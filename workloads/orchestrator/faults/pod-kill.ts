import type { FaultInjector } from "./injector.js";
import type { SutHandle } from "./sut-handle.js";

/**
 * pod_kill: SIGKILL to the SUT process, as Chaos Mesh's PodChaos pod-kill. The supervisor restarts
 * it; the undo waits for the new process to listen and records how long the SUT was gone.
 */
export class PodKillInjector implements FaultInjector {
  readonly scenario = "pod_kill";
  private killed: { pid: number; at: number } | undefined;

  constructor(
    private readonly sut: SutHandle,
    private readonly readyTimeoutMs = 30_000,
  ) {}

  apply(): Promise<Record<string, unknown>> {
    const pid = this.sut.pid;
    if (pid === undefined) return Promise.reject(new Error("the SUT is not running"));
    process.kill(pid, "SIGKILL");
    this.killed = { pid, at: Date.now() };
    return Promise.resolve({ pid, signal: "SIGKILL" });
  }

  async undo(): Promise<Record<string, unknown>> {
    const killed = this.killed;
    if (!killed) return { restarted: false };
    const pid = await this.sut.waitReady({ notPid: killed.pid, timeoutMs: this.readyTimeoutMs });
    this.killed = undefined;
    return { restarted: true, pid, previous_pid: killed.pid, restart_ms: Date.now() - killed.at };
  }
}
