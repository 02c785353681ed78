import { setTimeout as sleep } from "node:timers/promises";
import { readProcStat } from "../process/proc.js";
import { signalTree, treeOf } from "../process/tree.js";
import type { FaultInjector } from "./injector.js";
import type { SutHandle } from "./sut-handle.js";

/**
 * pod_pause (a local extra beside the seed's five scenarios): SIGSTOP to the SUT and its children —
 * a frozen process keeps its connections but answers nothing, like a hung pod or a long GC pause —
 * and SIGCONT to the same processes on undo. Each step returns once the kernel shows the new state.
 */
export class PauseInjector implements FaultInjector {
  readonly scenario = "pod_pause";
  private paused: number[] = [];

  constructor(private readonly sut: SutHandle) {}

  async apply(): Promise<Record<string, unknown>> {
    const pid = this.sut.pid;
    if (pid === undefined) throw new Error("the SUT is not running");
    const pids = treeOf(pid);
    this.paused = pids;
    signalTree(pid, "SIGSTOP", pids, false);
    await settle(pids, (state) => state === "T" || state === "t");
    return { pids, signal: "SIGSTOP" };
  }

  async undo(): Promise<Record<string, unknown>> {
    const pids = this.paused;
    const resumed = pids.length > 0 ? signalTree(pids[0]!, "SIGCONT", pids, false) : [];
    this.paused = [];
    await settle(resumed, (state) => state !== "T" && state !== "t");
    return { pids: resumed, signal: "SIGCONT" };
  }
}

/** Waits (up to 2 s) until every process that still exists is in a state `ok` accepts. */
async function settle(pids: readonly number[], ok: (state: string) => boolean): Promise<void> {
  const deadline = Date.now() + 2000;
  while (Date.now() < deadline) {
    if (
      pids.every((p) => {
        const s = readProcStat(p);
        return s === undefined || ok(s.state);
      })
    )
      return;
    await sleep(5);
  }
  throw new Error(`processes ${pids.join(", ")} did not change state within 2 s`);
}
