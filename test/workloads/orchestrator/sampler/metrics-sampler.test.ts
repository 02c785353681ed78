import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sample } from "../../../../workloads/shared/cycle.js";
import { exposedValue, MetricsSampler } from "../../../../workloads/orchestrator/sampler/metrics-sampler.js";
import { CPU_SERIES, RSS_SERIES } from "../../../../workloads/orchestrator/sampler/process-sampler.js";
import type { SutSupervisor } from "../../../../workloads/sut/supervisor.js";
import { startSut } from "../../support/sut.js";

let sut: SutSupervisor;
beforeAll(async () => {
  // Each /work request burns 20 ms of CPU in the SUT's process.
  sut = await startSut({ work: { cpuMs: 20 } });
});
afterAll(async () => {
  await sut?.stop();
});

/** Sends `n` /work requests, 4 at a time. */
async function work(n: number): Promise<void> {
  const one = async () => {
    const r = await fetch(new URL("/work", sut.url));
    await r.arrayBuffer();
  };
  for (let i = 0; i < n; i += 4) await Promise.all([one(), one(), one(), one()]);
}

describe("the metrics sampler (an external SUT: a container or a pod)", () => {
  it("reads the SUT's own process metrics as CPU % of its cores and RSS, the process sampler's series", async () => {
    const samples: Sample[] = [];
    const sampler = new MetricsSampler({
      url: new URL("/metrics", sut.url).toString(),
      cores: 1,
      phase: () => "baseline",
      onSample: (s) => samples.push(s),
    });
    expect(await sampler.sampleNow()).toStrictEqual([
      expect.objectContaining({ series: RSS_SERIES, phase: "baseline" }),
    ]);
    await work(40);
    const second = await sampler.sampleNow();
    const cpu = second.find((s) => s.series === CPU_SERIES)!;
    const rss = second.find((s) => s.series === RSS_SERIES)!;
    // 40 requests of 20 ms of CPU each in the SUT between the two scrapes.
    expect(cpu.value).toBeGreaterThan(0);
    expect(rss.value).toBeGreaterThan(10 * 1024 * 1024);
    expect(samples.map((s) => s.series)).toStrictEqual([RSS_SERIES, CPU_SERIES, RSS_SERIES]);
  }, 60_000);

  it("leaves a gap, not a zero, when the SUT restarted or does not answer", async () => {
    let cpu = "5.5";
    let status = 200;
    const fake: Server = createServer((_req, res) => {
      res.statusCode = status;
      res.end(
        `# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total ${cpu}\nprocess_resident_memory_bytes 1000\n`,
      );
    });
    fake.listen(0, "127.0.0.1");
    await new Promise((r) => fake.once("listening", r));
    try {
      const sampler = new MetricsSampler({
        url: `http://127.0.0.1:${(fake.address() as AddressInfo).port}/metrics`,
        cores: 2,
        onSample: () => undefined,
      });
      await sampler.sampleNow();
      cpu = "1.0"; // the counter went down: a new process
      expect((await sampler.sampleNow()).map((s) => s.series)).toStrictEqual([RSS_SERIES]);
      status = 503;
      expect(await sampler.sampleNow()).toStrictEqual([]);
      status = 200;
      expect((await sampler.sampleNow()).map((s) => s.series)).toStrictEqual([RSS_SERIES]);
      await new Promise((r) => setTimeout(r, 200));
      cpu = "1.2";
      const [c] = await sampler.sampleNow();
      // 0.2 s of CPU over ~0.2 s of wall on 2 cores: about 50 %, never more than the cores allow.
      expect(c!.series).toBe(CPU_SERIES);
      expect(c!.value).toBeGreaterThan(0);
      expect(c!.value).toBeLessThanOrEqual(60);
    } finally {
      fake.close();
    }
  });

  it("reads only an unlabelled sample line of the exact name", () => {
    const text = [
      "# HELP process_cpu_seconds_total x",
      "process_cpu_seconds_total_created 99",
      'process_cpu_seconds_total{mode="user"} 7',
      "process_cpu_seconds_total 3.25 1700000000000",
      "process_resident_memory_bytes NaN",
    ].join("\n");
    expect(exposedValue(text, "process_cpu_seconds_total")).toBe(3.25);
    expect(exposedValue(text, "process_resident_memory_bytes")).toBeUndefined();
    expect(exposedValue(text, "absent")).toBeUndefined();
  });
});
