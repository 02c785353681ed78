import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { startRunning, type Running } from "../../../../workloads/orchestrator/process/spawn.js";
import { judgeBand, memoryPercent } from "../../../../workloads/orchestrator/sampler/band.js";
import {
  CPU_SERIES,
  ProcessSampler,
  RSS_SERIES,
} from "../../../../workloads/orchestrator/sampler/process-sampler.js";
import { Sample } from "../../../../workloads/shared/cycle.js";
import { scratchDir } from "../../support/context.js";
import { waitFor } from "../../support/wait.js";

const running: Running[] = [];
const scratch = scratchDir("sampler");
afterAll(async () => {
  for (const r of running) await r.stop(500);
  scratch.remove();
});
const start = (args: string[]): Running => {
  const r = startRunning({ file: "stress-ng", args });
  running.push(r);
  return r;
};
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

describe("the SUT resource sampler against real processes", () => {
  it("reads a process held at 50 % of one core as about 50 %, in step with the process's own account", async () => {
    const yaml = join(scratch.dir, "half.yaml");
    const half = start(["--cpu", "1", "--cpu-load", "50", "--timeout", "6s", "--metrics", "--yaml", yaml]);
    const samples: Sample[] = [];
    const sampler = new ProcessSampler({
      roots: () => [half.pid],
      cores: 1,
      phase: () => "light",
      onSample: (s) => samples.push(s),
    });
    sampler.start();
    await waitFor(
      "four CPU samples at 1 s",
      () => samples.filter((s) => s.series === CPU_SERIES).length >= 4,
      15_000,
    );
    sampler.stop();
    await half.exited;
    const cpu = samples.filter((s) => s.series === CPU_SERIES).map((s) => s.value);
    const own = (parseYaml(readFileSync(yaml, "utf8")) as { metrics: { "cpu-usage-per-instance": number }[] })
      .metrics[0]!;
    console.info(
      `sampler mean ${mean(cpu).toFixed(1)} % of one core; stress-ng's own account ${own["cpu-usage-per-instance"].toFixed(1)} %`,
    );
    // Other test files share the machine, so the process may get less than it asks for: the band
    // is wide, and the sampler must agree with the process's own account of what it got.
    expect(mean(cpu)).toBeGreaterThan(20);
    expect(mean(cpu)).toBeLessThan(70);
    expect(Math.abs(mean(cpu) - own["cpu-usage-per-instance"])).toBeLessThan(10);
    for (const s of samples) expect(Sample.parse(s)).toMatchObject({ phase: "light" });
    const stamps = samples.filter((s) => s.series === CPU_SERIES).map((s) => s.ts_ms);
    for (let i = 1; i < stamps.length; i++) expect(stamps[i]! - stamps[i - 1]!).toBeGreaterThanOrEqual(900);
  });

  it("counts the resident memory of the whole tree", async () => {
    const vm = start(["--vm", "1", "--vm-bytes", "64M", "--vm-keep", "--timeout", "20s"]);
    const sampler = new ProcessSampler({ roots: () => [vm.pid], onSample: () => undefined });
    const rss = await waitFor("64 MiB resident", () => {
      const r = sampler.sampleNow().find((s) => s.series === RSS_SERIES)?.value ?? 0;
      return r >= 64 * 1024 * 1024 ? r : undefined;
    });
    expect(rss).toBeLessThan(512 * 1024 * 1024);
    await vm.stop();
  });

  it("emits nothing while the process is gone, and does not lend a new process the old one's ticks", async () => {
    let current: number | undefined = start(["--cpu", "1", "--timeout", "20s"]).pid;
    const sampler = new ProcessSampler({ roots: () => [current], cores: 1, onSample: () => undefined });
    sampler.sampleNow();
    await waitFor(
      "CPU time to accrue",
      () => (sampler.sampleNow().find((s) => s.series === CPU_SERIES)?.value ?? 0) > 0,
      5000,
    );
    await running.at(-1)!.stop();
    current = undefined;
    expect(sampler.sampleNow()).toStrictEqual([]);
    current = start(["--cpu", "1", "--cpu-load", "1", "--timeout", "20s"]).pid;
    // A CPU figure needs machine ticks to pass since the previous read; the new process is light.
    const fresh = await waitFor("a CPU sample of the new process", () =>
      sampler.sampleNow().find((s) => s.series === CPU_SERIES),
    );
    expect(fresh.value).toBeGreaterThanOrEqual(0);
    expect(fresh.value).toBeLessThan(100);
  });
});

describe("judging a phase against its band", () => {
  it.each([
    [[12, 18, 15], { min: 10, max: 20 }, { mean: 15, p95: 18, reached: true }],
    [[30, 40], { min: 10, max: 20 }, { mean: 35, p95: 40, reached: false }],
    [[], { min: 10, max: 20 }, { mean: null, p95: null, reached: null }],
  ])("%j in %j", (values, band, expected) => {
    expect(judgeBand(values, band)).toStrictEqual({ ...band, ...expected });
  });

  it("memory as a percent of what the environment grants", () => {
    expect(memoryPercent(256 * 1024 * 1024, 1024 * 1024 * 1024)).toBe(25);
  });
});
