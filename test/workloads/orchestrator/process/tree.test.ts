import { spawn } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { descendantsOf, isAlive, readProcStat } from "../../../../workloads/orchestrator/process/proc.js";
import { signalTree, terminateTree, treeOf } from "../../../../workloads/orchestrator/process/tree.js";
import { waitFor } from "../../support/wait.js";

describe("stopping process trees", () => {
  const started: number[] = [];
  afterEach(async () => {
    for (const pid of started.splice(0)) await terminateTree(pid, 200);
  });
  const tree = async (script: string, members: number): Promise<number[]> => {
    const root = spawn("sh", ["-c", script], { stdio: "ignore", detached: true });
    started.push(root.pid!);
    return waitFor(`${members} processes`, () => {
      const all = treeOf(root.pid!);
      return all.length >= members ? all : undefined;
    });
  };

  it("SIGTERM stops a cooperative tree, nothing needs SIGKILL", async () => {
    const pids = await tree("sleep 60 & sleep 60 & wait", 3);
    expect(await terminateTree(pids[0]!, 2000)).toStrictEqual([]);
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
  });

  it("a member that ignores SIGTERM gets SIGKILL after the grace period", async () => {
    const pids = await tree(`sh -c 'trap "" TERM; while :; do sleep 0.05; done' & wait`, 2);
    const stubborn = await terminateTree(pids[0]!, 300);
    expect(stubborn.length).toBeGreaterThan(0);
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
  });

  it("a member that moved to its own session is still found and stopped", async () => {
    const pids = await tree("setsid sleep 60 & wait", 2);
    // setsid runs before it becomes sleep: wait for the exec, after which it has its own session.
    const moved = await waitFor("sleep in its own session", () =>
      descendantsOf(pids[0]!).find((p) => readProcStat(p)?.comm === "sleep"),
    );
    expect(readProcStat(moved)!.pgrp).not.toBe(pids[0]);
    await terminateTree(pids[0]!, 1000);
    expect(isAlive(moved)).toBe(false);
  });

  it("SIGSTOP freezes every member and SIGCONT thaws them", async () => {
    const pids = await tree("sleep 60 & wait", 2);
    signalTree(pids[0]!, "SIGSTOP", pids);
    await waitFor("all stopped", () => pids.every((p) => readProcStat(p)?.state === "T"));
    signalTree(pids[0]!, "SIGCONT", pids);
    await waitFor("all running again", () => pids.every((p) => readProcStat(p)?.state !== "T"));
    expect(descendantsOf(pids[0]!)).toStrictEqual(pids.slice(1));
  });
});
