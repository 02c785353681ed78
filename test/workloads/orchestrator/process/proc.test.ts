import { execFileSync, spawn } from "node:child_process";
import { cpus } from "node:os";
import { afterEach, describe, expect, it } from "vitest";
import {
  descendantsOf,
  isAlive,
  parseMachineTicks,
  parseProcStat,
  readMachineTicks,
  readProcStat,
  readRssBytes,
} from "../../../../workloads/orchestrator/process/proc.js";
import { terminateTree } from "../../../../workloads/orchestrator/process/tree.js";
import { waitFor } from "../../support/wait.js";

describe("/proc readers", () => {
  it("parses a stat line whose command name holds spaces and parentheses", () => {
    const fields = Array.from({ length: 49 }, (_, i) => String(i + 3));
    fields[0] = "S";
    const stat = parseProcStat(`4242 (we(i) rd) name) ${fields.join(" ")}`);
    expect(stat).toStrictEqual({
      pid: 4242,
      comm: "we(i) rd) name",
      state: "S",
      ppid: 4,
      pgrp: 5,
      utime: 14,
      stime: 15,
      starttime: 22,
    });
  });

  it.each(["", "garbage", "12 (x"])("refuses %j", (text) => {
    expect(parseProcStat(text)).toBeUndefined();
  });

  it("reads this process: its parent, and an RSS close to what Node reports", () => {
    const self = readProcStat(process.pid)!;
    expect(self.ppid).toBe(process.ppid);
    expect(self.pid).toBe(process.pid);
    const rss = readRssBytes(process.pid)!;
    expect(Math.abs(rss - process.memoryUsage.rss()) / rss).toBeLessThan(0.2);
  });

  it("reads the machine's ticks and CPUs from /proc/stat", () => {
    expect(
      parseMachineTicks("cpu  10 20 30 40 50 60 70 80 90 100\ncpu0 1 1 1 1\ncpu1 1 1 1 1\nintr 5"),
    ).toStrictEqual({
      total: 360,
      cpus: 2,
    });
    expect(parseMachineTicks("intr 5")).toBeUndefined();
    expect(readMachineTicks().cpus).toBe(cpus().length);
  });

  it("a pid that does not exist reads as gone", () => {
    expect(readProcStat(2 ** 22 + 7)).toBeUndefined();
    expect(readRssBytes(2 ** 22 + 7)).toBeUndefined();
    expect(isAlive(2 ** 22 + 7)).toBe(false);
  });
});

describe("process trees", () => {
  const roots: number[] = [];
  afterEach(async () => {
    for (const pid of roots.splice(0)) await terminateTree(pid, 500);
  });

  it("finds children and grandchildren", async () => {
    const root = spawn("sh", ["-c", "sh -c 'sleep 60 & sleep 60' & sleep 60"], { stdio: "ignore" });
    roots.push(root.pid!);
    // A forked child keeps its parent's name until it execs: wait for the tree to settle.
    const found = await waitFor("an inner sh and three sleeps", () => {
      const d = descendantsOf(root.pid!);
      const names = d.map((pid) => readProcStat(pid)?.comm).sort();
      return JSON.stringify(names) === JSON.stringify(["sh", "sleep", "sleep", "sleep"]) ? d : undefined;
    });
    expect(found).toHaveLength(4);
    expect(
      execFileSync("ps", ["-o", "ppid=", "-p", String(found[0])])
        .toString()
        .trim(),
    ).toBe(String(root.pid));
  });
});
