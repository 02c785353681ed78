import { execa } from "execa";
import fc from "fast-check";
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  LatencyHistogram,
  RELATIVE_ERROR,
} from "../../../../workloads/orchestrator/adapters/latency-histogram.js";
import { parseHttpLoad } from "../../../../workloads/orchestrator/adapters/http-load.js";
import { startLocalWorkers } from "../../../../workloads/orchestrator/load/local-workers.js";
import { splitLoad } from "../../../../workloads/orchestrator/load/merge.js";
import { readWorkerLine } from "../../../../workloads/orchestrator/load/protocol.js";
import { OrchestratorMetrics } from "../../../../workloads/orchestrator/api/metrics.js";
import { ORCHESTRATOR_METRICS } from "../../../../workloads/shared/metric-names.js";
import { isAlive } from "../../../../workloads/orchestrator/process/proc.js";
import { tempDir } from "../../../support/temp.js";

const fixtures = fileURLToPath(new URL("../../../fixtures/load-workers/", import.meta.url));

/** Nearest-rank percentile of the exact values. */
function exact(sorted: readonly number[], q: number): number {
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
}

/** A loopback target that answers after a little work, counting what it answered. */
function target(): Promise<{ server: Server; url: string; served: () => number }> {
  let served = 0;
  const server = createServer((req, res) => {
    const spin = Date.now() + (served % 7 === 0 ? 2 : 0);
    while (Date.now() < spin);
    served += 1;
    res.end("ok");
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({
        server,
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
        served: () => served,
      }),
    ),
  );
}

describe("splitting and merging", () => {
  it("shares add up to the whole rate and connections, never more workers than connections or rps", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 1, max: 64 }),
        (rps, connections, n) => {
          const shares = splitLoad({ rps, connections }, n);
          expect(shares.reduce((a, s) => a + s.rps, 0)).toBe(rps);
          expect(shares.reduce((a, s) => a + s.connections, 0)).toBe(connections);
          expect(shares.length).toBeLessThanOrEqual(Math.min(n, connections, rps > 0 ? rps : Infinity));
          expect(shares.every((s) => s.connections >= 1)).toBe(true);
        },
      ),
    );
  });

  it("merging histograms bucket by bucket equals one histogram of every value", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.double({ min: 0.001, max: 60_000, noNaN: true }), fc.integer({ min: 0, max: 3 })),
          { minLength: 1, maxLength: 300 },
        ),
        (values) => {
          const whole = new LatencyHistogram();
          const parts = [0, 1, 2, 3].map(() => new LatencyHistogram());
          for (const [v, p] of values) {
            whole.record(v);
            parts[p]!.record(v);
          }
          const merged = new LatencyHistogram();
          for (const p of parts) merged.merge(LatencyHistogram.fromJSON(p.toJSON()) as LatencyHistogram);
          expect(merged.toJSON().buckets).toStrictEqual(whole.toJSON().buckets);
          for (const q of [0.5, 0.9, 0.99, 1]) expect(merged.percentile(q)).toBe(whole.percentile(q));
        },
      ),
    );
  });

  it("reads a worker's event-loop delay with its second, and refuses one that is negative or has other keys", () => {
    const h = new LatencyHistogram();
    h.record(5);
    const second = {
      kind: "second",
      index: 0,
      second: 1,
      ts_ms: 1,
      interval_ms: 1000,
      responses: 1,
      errors: 0,
      timeouts: 0,
      non_2xx: 0,
      histogram: h.toJSON(),
    };
    const loop = { mean_ms: 10.5, p99_ms: 12, max_ms: 30 };
    const read = readWorkerLine(JSON.stringify({ ...second, event_loop: loop }));
    expect(read.ok && read.value.kind === "second" && read.value.event_loop).toStrictEqual(loop);
    expect(readWorkerLine(JSON.stringify(second)).ok).toBe(true);
    for (const bad of [
      { ...loop, max_ms: -1 },
      { ...loop, lag: 1 },
    ]) {
      const r = readWorkerLine(JSON.stringify({ ...second, event_loop: bad }));
      expect(r.ok ? "accepted" : r.problem).toMatch(/^event_loop/);
    }
  });

  it("refuses a serialized histogram whose buckets do not add up or are out of range", () => {
    expect(LatencyHistogram.fromJSON({ buckets: [[3, 2]], count: 5, sum: 1, min: 0.1, max: 0.2 })).toBe(
      "the buckets hold 2 values but count says 5",
    );
    expect(
      LatencyHistogram.fromJSON({
        buckets: [
          [9, 1],
          [4, 1],
        ],
        count: 2,
        sum: 1,
        min: 0.1,
        max: 0.2,
      }),
    ).toMatch(/^bucket 4 is out of range or out of order/);
  });
});

describe("local load workers against a loopback server", () => {
  let t: Awaited<ReturnType<typeof target>>;
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    t = await target();
    tmp = await tempDir("tiers-load-workers-");
  });
  afterAll(async () => {
    t.server.close();
    await tmp.remove();
  });

  it.each([1, 2, 4])(
    "with %i workers the merged percentiles are those of every raw latency within the stated bound, and the rates add up",
    async (n) => {
      const before = t.served();
      const prefix = join(tmp.path, `raw-${n}`);
      const run = startLocalWorkers(
        { url: t.url, connections: 8, rps: 400, durationS: 2 },
        { workers: n, rawLatenciesPrefix: prefix },
      );
      const live: number[] = [];
      run.onSecond((s) => live.push(s.responses));
      const report = await run.done;
      expect(report.workers?.map((w) => w.problem ?? "ok")).toStrictEqual(Array(n).fill("ok"));
      const raw: number[] = [];
      for (let i = 0; i < n; i++) {
        const text = await readFile(`${prefix}.${i}`, "utf8");
        raw.push(...text.trim().split("\n").map(Number));
      }
      raw.sort((a, b) => a - b);
      expect(raw.length).toBeGreaterThan(0);
      expect(report.histogram.count).toBe(raw.length);
      expect(report.totals.requests).toBe(raw.length);
      // Every response counted was served by the target; only those in flight when the run ended
      // (at most one per connection) were served and not counted.
      expect(t.served() - before - raw.length).toBeGreaterThanOrEqual(0);
      expect(t.served() - before - raw.length).toBeLessThanOrEqual(8);
      for (const q of [0.5, 0.9, 0.95, 0.99, 1]) {
        const want = exact(raw, q);
        const got = new LatencyHistogram();
        got.merge(report.histogram);
        const p = got.percentile(q)!;
        expect(p).toBeGreaterThanOrEqual(want);
        expect(p).toBeLessThanOrEqual(want * (1 + RELATIVE_ERROR) + 1e-9);
      }
      // The summary the adapter reads is the merged histogram's.
      const merged = new LatencyHistogram();
      merged.merge(report.histogram);
      expect(report.latency_ms?.p99).toBe(merged.percentile(0.99));
      // The workers' own rates sum to the run's achieved rate; their requests to its requests.
      const workers = report.workers!;
      expect(workers).toHaveLength(n);
      expect(report.totals.rps).toBeCloseTo(
        workers.reduce((a, w) => a + w.requests / w.duration_s, 0),
        6,
      );
      expect(workers.reduce((a, w) => a + w.requests, 0)).toBe(report.totals.requests);
      expect(workers.reduce((a, w) => a + w.rps, 0)).toBe(400);
      // Each second's merged figures hold every worker's responses of that second.
      expect(report.seconds.reduce((a, s) => a + s.responses, 0)).toBe(raw.length);
      expect(live.reduce((a, r) => a + r, 0)).toBe(raw.length);
      // The adapter's metrics are the merged ones.
      const parsed = parseHttpLoad({ stdout: JSON.stringify(report), stderr: "", exitCode: 0, files: {} });
      expect(parsed.ok && parsed.metrics).toMatchObject({
        requests: raw.length,
        workers: n,
        latency_p99: report.latency_ms!.p99,
      });
    },
    60_000,
  );

  it("tells the sink each worker's event-loop delay of every second, by pid, and when each worker has exited", async () => {
    const seconds: { pid: number; mean_ms: number; p99_ms: number; max_ms: number }[] = [];
    const ended: number[] = [];
    const run = startLocalWorkers(
      { url: t.url, connections: 4, rps: 200, durationS: 2 },
      {
        workers: 2,
        eventLoop: {
          second: (pid, delay) => seconds.push({ pid: Number(pid), ...delay }),
          ended: (pid) => ended.push(Number(pid)),
        },
      },
    );
    const report = await run.done;
    const pids = report.workers!.map((w) => w.pid!);
    expect(report.workers!.map((w) => w.problem ?? "ok")).toStrictEqual(["ok", "ok"]);
    expect(ended.sort()).toStrictEqual([...pids].sort());
    // Every worker reported its own loop with its seconds; nothing but the run's workers did.
    for (const w of report.workers!) expect(seconds.filter((s) => s.pid === w.pid).length).toBeGreaterThan(0);
    expect(new Set(seconds.map((s) => s.pid))).toStrictEqual(new Set(pids));
    for (const s of seconds) {
      expect(s.mean_ms).toBeGreaterThan(0);
      expect(s.mean_ms).toBeLessThanOrEqual(s.max_ms);
      expect(s.p99_ms).toBeLessThanOrEqual(s.max_ms);
    }
  }, 60_000);

  it("on the orchestrator's /metrics, each running worker's loop is a gauge by pid, gone once the worker exits", async () => {
    const metrics = new OrchestratorMetrics("env-1", {
      running: () => undefined,
      lastEnd: () => undefined,
      cycleCount: () => 0,
    });
    const gauge = ORCHESTRATOR_METRICS.workerLoopP99.name;
    const workersIn = (text: string) =>
      [...text.matchAll(new RegExp(`^${gauge}\\{environment="env-1",worker="(\\d+)"\\} (\\S+)$`, "gm"))].map(
        (m) => ({ pid: Number(m[1]), seconds: Number(m[2]) }),
      );
    // Scraped right after each thing the engine tells it: a worker's second, a worker's exit.
    const scrapes: { after: "second" | "ended"; pid: number; text: Promise<string> }[] = [];
    const run = startLocalWorkers(
      { url: t.url, connections: 4, rps: 200, durationS: 2 },
      {
        workers: 2,
        eventLoop: {
          second: (pid, delay) => {
            metrics.second(pid, delay);
            scrapes.push({ after: "second", pid: Number(pid), text: metrics.render() });
          },
          ended: (pid) => {
            metrics.ended(pid);
            scrapes.push({ after: "ended", pid: Number(pid), text: metrics.render() });
          },
        },
      },
    );
    const report = await run.done;
    const pids = report.workers!.map((w) => w.pid!).sort();
    for (const after of ["second", "ended"] as const)
      expect([...new Set(scrapes.filter((x) => x.after === after).map((x) => x.pid))].sort()).toStrictEqual(
        pids,
      );
    for (const scrape of scrapes) {
      const seen = workersIn(await scrape.text);
      const series = seen.find((w) => w.pid === scrape.pid);
      if (scrape.after === "second") expect(series?.seconds).toBeGreaterThan(0);
      else expect(series).toBeUndefined();
    }
    expect(workersIn(await metrics.render())).toStrictEqual([]);
  }, 60_000);

  it.each([
    [
      "crashes",
      "crash",
      /^load worker 1: exited with code 3 before its report, 2 seconds reported and kept \(stderr: worker: out of file descriptors\)$/,
    ],
    [
      "writes a malformed line",
      "malformed",
      /^load worker 1: wrote a malformed line 4: ts_ms: Invalid input: expected number, received undefined; stopped, what it sent before is kept$/,
    ],
  ])(
    "a worker that %s is named in the Result's reason, and what it sent is kept",
    async (_, mode, reason) => {
      process.env.FLAKY_MODE = mode;
      const run = startLocalWorkers(
        { url: t.url, connections: 2, rps: 100, durationS: 2 },
        {
          workers: 2,
          command: { file: process.execPath, args: ["--import", "tsx", join(fixtures, "flaky-worker.ts")] },
        },
      );
      const report = await run.done;
      delete process.env.FLAKY_MODE;
      const good = report.workers![0]!;
      expect([good.problem, report.workers![1]!.problem]).toStrictEqual([undefined, expect.any(String)]);
      expect(good.requests).toBeGreaterThan(0);
      // The broken worker's two honest seconds (10 responses each) are in the totals and the histogram.
      expect(report.totals.requests).toBe(good.requests + 20);
      expect(report.histogram.count).toBe(good.requests + 20);
      const parsed = parseHttpLoad({ stdout: JSON.stringify(report), stderr: "", exitCode: 0, files: {} });
      expect(parsed.ok).toBe(true);
      if (parsed.ok) expect(parsed.toolError).toMatch(reason);
    },
    60_000,
  );
});

describe("workers are stopped on every path", () => {
  let t: Awaited<ReturnType<typeof target>>;
  beforeAll(async () => {
    t = await target();
  });
  afterAll(() => t.server.close());

  async function startParent() {
    const child = execa(process.execPath, ["--import", "tsx", join(fixtures, "parent.ts"), t.url, "2"], {
      reject: false,
      buffer: true,
      lines: true,
    });
    const pids = await new Promise<number[]>((resolve, reject) => {
      let seconds = 0;
      let found: number[] | undefined;
      child.stdout.on("data", (chunk: Buffer) => {
        for (const line of chunk.toString().split("\n").filter(Boolean)) {
          const o = JSON.parse(line) as { pids?: number[]; second?: number };
          if (o.pids) found = o.pids;
          if (o.second !== undefined) seconds += 1;
          if (found && seconds >= 2) resolve(found);
        }
      });
      void child.then((r) => reject(new Error(`parent ended early: ${String(r.stderr)}`)));
    });
    return { child, pids };
  }

  async function gone(pids: readonly number[], withinMs: number): Promise<boolean> {
    const end = Date.now() + withinMs;
    while (Date.now() < end) {
      if (pids.every((p) => !isAlive(p))) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  }

  it.each(["SIGTERM", "SIGINT"] as const)(
    "%s to the orchestrator stops its workers, and their reports arrive first",
    async (signal) => {
      const { child, pids } = await startParent();
      expect(pids.every(isAlive)).toBe(true);
      child.kill(signal);
      const result = await child;
      const last = JSON.parse(result.stdout.at(-1)!) as {
        totals: { requests: number };
        workers: { problem?: string; requests: number }[];
      };
      expect(last.workers.map((w) => w.problem ?? "reported")).toStrictEqual(["reported", "reported"]);
      expect(last.totals.requests).toBeGreaterThan(0);
      expect(await gone(pids, 10_000)).toBe(true);
    },
    60_000,
  );

  it("SIGKILL of the orchestrator: its orphaned workers notice and stop by themselves", async () => {
    const { child, pids } = await startParent();
    child.kill("SIGKILL");
    await child;
    expect(await gone(pids, 15_000)).toBe(true);
  }, 60_000);
});
