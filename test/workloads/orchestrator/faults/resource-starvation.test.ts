import { describe, expect, it } from "vitest";
import { ResourceStarvationInjector } from "../../../../workloads/orchestrator/faults/resource-starvation.js";
import { runFault } from "../../../../workloads/orchestrator/faults/injector.js";
import { descendantsOf, isAlive, readProcStat } from "../../../../workloads/orchestrator/process/proc.js";
import { ProcessSampler } from "../../../../workloads/orchestrator/sampler/process-sampler.js";
import type { CycleEvent } from "../../../../workloads/shared/cycle.js";
import { waitFor } from "../../support/wait.js";

describe("resource_starvation with stress-ng", () => {
  it("starts CPU and memory hogs that really burn CPU, and stops every one of them", async () => {
    const hog = new ResourceStarvationInjector({ cpuWorkers: 1, vmWorkers: 1, vmBytes: "32M" });
    expect(await hog.unavailable()).toBeUndefined();
    const applied = await hog.apply({ phase: "chaos", durationMs: 3000, emit: () => undefined });
    const pid = applied.pid as number;
    const hogs = descendantsOf(pid);
    try {
      expect(applied).toMatchObject({ cpu_workers: 1, vm_workers: 1, cpu_load: 100 });
      expect(applied.args).toStrictEqual([
        "--cpu",
        "1",
        "--cpu-load",
        "100",
        "--vm",
        "1",
        "--vm-bytes",
        "32M",
        "--vm-keep",
        "--timeout",
        "8s",
      ]);
      await waitFor("a worker named stress-ng-cpu", () =>
        descendantsOf(pid).some((p) => readProcStat(p)?.comm === "stress-ng-cpu"),
      );
      const cpu: number[] = [];
      const sampler = new ProcessSampler({
        roots: () => [pid],
        cores: 1,
        intervalMs: 250,
        onSample: (s) => s.series === "sut.cpu_pct" && cpu.push(s.value),
      });
      sampler.start();
      await waitFor("two CPU samples", () => cpu.length >= 2);
      sampler.stop();
      expect(Math.max(...cpu)).toBeGreaterThan(30);
    } finally {
      expect(await hog.undo()).toStrictEqual({ stopped: true, pid });
    }
    for (const p of [pid, ...hogs]) expect(isAlive(p), String(p)).toBe(false);
  });

  it("as a window: applied, undone, recorded", async () => {
    const events: CycleEvent[] = [];
    const record = await runFault(new ResourceStarvationInjector({ cpuWorkers: 1, vmWorkers: 0 }), {
      phase: "chaos",
      durationMs: 300,
      emit: (e) => events.push(e),
    });
    expect(record.outcome).toBe("undone");
    expect(events.map((e) => e.kind)).toStrictEqual(["fault.applied", "fault.undone"]);
    expect(isAlive(events[0]!.detail.pid as number)).toBe(false);
  });

  it("is skipped where stress-ng is not installed", async () => {
    const missing = new ResourceStarvationInjector({ path: "/nonexistent" });
    expect(await missing.unavailable()).toBe("tool not installed: stress-ng (Debian package stress-ng)");
  });
});
