import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ClockSkewInjector,
  findLibfaketime,
  observeSkewMs,
  prepareFakeClock,
} from "../../../../workloads/orchestrator/faults/clock-skew.js";
import { DiskFailureInjector } from "../../../../workloads/orchestrator/faults/disk-failure.js";
import { runFault } from "../../../../workloads/orchestrator/faults/injector.js";
import { PauseInjector } from "../../../../workloads/orchestrator/faults/pause.js";
import { PodKillInjector } from "../../../../workloads/orchestrator/faults/pod-kill.js";
import { isAlive, readProcStat } from "../../../../workloads/orchestrator/process/proc.js";
import type { CycleEvent } from "../../../../workloads/shared/cycle.js";
import type { SutSupervisor } from "../../../../workloads/sut/supervisor.js";
import { scratchDir } from "../../support/context.js";
import { get, startSut } from "../../support/sut.js";

const window = (events: CycleEvent[], durationMs = 100) => ({
  phase: "chaos" as const,
  durationMs,
  emit: (e: CycleEvent) => events.push(e),
});

describe("faults on a supervised SUT", () => {
  const scratch = scratchDir("sut-faults");
  let sut: SutSupervisor;
  beforeAll(async () => {
    sut = await startSut({ storageDir: scratch.dir });
  });
  afterAll(async () => {
    await sut.stop();
    scratch.remove();
  });

  it("pod_kill: SIGKILL, the supervisor restarts it, the undo records how long it was gone", async () => {
    const before = sut.pid!;
    const events: CycleEvent[] = [];
    const record = await runFault(new PodKillInjector(sut), window(events));
    expect(record.outcome).toBe("undone");
    expect(isAlive(before)).toBe(false);
    expect(events.map((e) => e.kind)).toStrictEqual(["fault.applied", "fault.undone"]);
    expect(events[0]!.detail).toMatchObject({ pid: before, signal: "SIGKILL" });
    expect(events[1]!.detail).toMatchObject({ restarted: true, previous_pid: before, pid: sut.pid });
    expect(events[1]!.detail.restart_ms as number).toBeGreaterThan(0);
    expect((await get(sut.url, "/healthz")).status).toBe(200);
  });

  it("pause: the SUT stops answering while frozen and answers again once thawed", async () => {
    const pause = new PauseInjector(sut);
    const detail = await pause.apply();
    try {
      expect(detail).toStrictEqual({ pids: [sut.pid], signal: "SIGSTOP" });
      expect(readProcStat(sut.pid!)!.state).toBe("T");
      await expect(get(sut.url, "/healthz", 400)).rejects.toThrow(/aborted|timeout/i);
    } finally {
      expect(await pause.undo()).toStrictEqual({ pids: [sut.pid], signal: "SIGCONT" });
    }
    expect((await get(sut.url, "/healthz")).status).toBe(200);
  });

  it("disk_failure: storage writes fail with ENOTDIR during the window, and the data is intact after", async () => {
    expect((await get(sut.url, "/work?write=100")).status).toBe(200);
    const journal = join(scratch.dir, "data", "journal.log");
    const size = statSync(journal).size;
    const disk = new DiskFailureInjector(scratch.dir);
    expect(await disk.apply()).toStrictEqual({ path: join(scratch.dir, "data"), errno: "ENOTDIR" });
    try {
      expect(await get(sut.url, "/work?write=100")).toStrictEqual({
        status: 500,
        body: JSON.stringify({ error: "storage write failed: ENOTDIR" }),
      });
      expect((await get(sut.url, "/work")).status).toBe(200); // only storage is failing
    } finally {
      expect(await disk.undo()).toStrictEqual({ restored: true, path: join(scratch.dir, "data") });
    }
    expect(statSync(journal).size).toBe(size);
    expect((await get(sut.url, "/work?write=100")).status).toBe(200);
    expect(statSync(journal).size).toBe(size + 100);
    expect(await disk.undo()).toStrictEqual({ restored: false }); // twice is harmless
    const metrics = (await get(sut.url, "/metrics")).body;
    expect(metrics).toMatch(/^sut_storage_writes_total\{outcome="error"\} 1$/m);
  });

  it("disk_failure survives a SUT restart inside its window", async () => {
    const disk = new DiskFailureInjector(scratch.dir);
    await disk.apply();
    const old = sut.pid!;
    process.kill(old, "SIGKILL");
    await sut.waitReady({ notPid: old });
    expect((await get(sut.url, "/work?write=10")).status).toBe(500);
    await disk.undo();
    expect(existsSync(join(scratch.dir, "data.held-by-disk-failure"))).toBe(false);
    expect((await get(sut.url, "/work?write=10")).status).toBe(200);
  });

  it("clock_skew on a SUT without a fake clock: the check catches that the clock did not move", async () => {
    const clockDir = scratchDir("no-clock");
    try {
      const clock = (await prepareFakeClock(clockDir.dir)) ?? {
        library: "/none",
        timestampFile: join(clockDir.dir, "offset"),
      };
      const events: CycleEvent[] = [];
      const record = await runFault(new ClockSkewInjector(clock, 300, `${sut.url}/healthz`), window(events));
      expect(record.outcome).toBe("apply_failed");
      expect(record.reason).toMatch(/^the SUT's clock reads -?\d+ ms off, expected 300000 ms$/);
      expect(events.map((e) => e.kind)).toStrictEqual(["fault.apply_failed", "fault.undone"]);
    } finally {
      clockDir.remove();
    }
  });
});

describe("clock_skew with libfaketime", () => {
  const library = findLibfaketime();
  const scratch = scratchDir("clock");
  let sut: SutSupervisor | undefined;
  afterAll(async () => {
    await sut?.stop();
    scratch.remove();
  });

  it("moves the SUT's wall clock and back; without libfaketime it is skipped, saying why", async () => {
    const clock = await prepareFakeClock(scratch.dir);
    expect(clock?.library).toBe(library);
    if (!clock) {
      console.info("libfaketime is not installed (Debian package faketime): clock_skew is skipped here");
      const events: CycleEvent[] = [];
      const record = await runFault(new ClockSkewInjector(undefined, 300), window(events));
      expect(record).toStrictEqual({
        scenario: "clock_skew",
        outcome: "skipped",
        reason: "the SUT has no fake clock (libfaketime: Debian package faketime)",
      });
      return;
    }
    sut = await startSut({ clock });
    const health = `${sut.url}/healthz`;
    expect(Math.abs(await observeSkewMs(health))).toBeLessThan(1000);
    const skew = new ClockSkewInjector(clock, -3600, health);
    const applied = await skew.apply();
    expect(readFileSync(clock.timestampFile, "utf8")).toBe("-3600\n");
    expect(Math.abs((applied.observed_skew_ms as number) + 3_600_000)).toBeLessThan(2000);
    // The SUT keeps serving: its timers run on the monotonic clock, which did not move.
    expect((await get(sut.url, "/work?delay_ms=50")).status).toBe(200);
    const undone = await skew.undo();
    expect(Math.abs(undone.observed_skew_ms as number)).toBeLessThan(2000);
    expect(readFileSync(clock.timestampFile, "utf8")).toBe("+0\n");
  });
});

describe("SUT injectors refuse what is not there", () => {
  it("pod_kill and pause need a running SUT", async () => {
    const gone = { pid: undefined, waitReady: () => Promise.reject(new Error("never")) };
    await expect(new PodKillInjector(gone).apply()).rejects.toThrow("the SUT is not running");
    await expect(new PauseInjector(gone).apply()).rejects.toThrow("the SUT is not running");
    expect(await new PodKillInjector(gone).undo()).toStrictEqual({ restarted: false });
  });

  it("disk_failure needs a storage path", () => {
    expect(new DiskFailureInjector(undefined).unavailable()).toBe("the SUT has no storage path");
  });

  it("clock_skew needs a fake clock", () => {
    expect(new ClockSkewInjector(undefined, 1).unavailable()).toBe(
      "the SUT has no fake clock (libfaketime: Debian package faketime)",
    );
  });
});
