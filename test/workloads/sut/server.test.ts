import type { AddressInfo } from "node:net";
import { existsSync, readFileSync, statSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createSut,
  parseWork,
  SESSION_CACHE_MAX_SHARE,
  SESSION_SLAB_BYTES,
  SessionCache,
  sessionCacheFor,
  type SessionCacheOptions,
} from "../../../workloads/sut/server.js";
import { Journal } from "../../../workloads/sut/storage.js";
import { scratchDir } from "../support/scratch.js";
import { get } from "../support/sut.js";

const DEFAULTS = { cpuMs: 0, delayMs: 0, errorRate: 0, bytes: 0 };

describe("/work query", () => {
  it.each([
    ["", { cpu_ms: 0, delay_ms: 0, error_rate: 0, bytes: 0, write: 0 }],
    [
      "cpu_ms=5&delay_ms=10&error_rate=0.5&bytes=100&write=64",
      { cpu_ms: 5, delay_ms: 10, error_rate: 0.5, bytes: 100, write: 64 },
    ],
  ])("%j", (query, work) => {
    expect(parseWork(new URLSearchParams(query), DEFAULTS)).toStrictEqual(work);
  });

  it.each([
    ["cpu_ms=-1", 'cpu_ms: expected a number from 0 to 10000 (got "-1")'],
    ["error_rate=2", 'error_rate: expected a number from 0 to 1 (got "2")'],
    ["delay_ms=soon", 'delay_ms: expected a number from 0 to 60000 (got "soon")'],
    ["bytes=", 'bytes: expected a number from 0 to 1048576 (got "")'],
  ])("%j is refused: %s", (query, message) => {
    expect(parseWork(new URLSearchParams(query), DEFAULTS)).toBe(message);
  });
});

describe("the sample SUT", () => {
  const scratch = scratchDir("sut");
  const journal = new Journal(scratch.dir);
  const { server } = createSut({ defaults: { ...DEFAULTS, cpuMs: 0 }, journal });
  let base = "";
  beforeAll(async () => {
    await journal.init();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    scratch.remove();
  });

  it("/healthz says it is up and what its clock reads", async () => {
    const before = Date.now();
    const r = await get(base, "/healthz");
    const body = JSON.parse(r.body) as { status: string; pid: number; now_ms: number };
    expect([r.status, body.status, body.pid]).toStrictEqual([200, "ok", process.pid]);
    expect(body.now_ms).toBeGreaterThanOrEqual(before);
  });

  it("/work burns the CPU time it is asked for", async () => {
    const cpu = process.cpuUsage();
    expect((await get(base, "/work?cpu_ms=60")).status).toBe(200);
    const used = process.cpuUsage(cpu);
    expect((used.user + used.system) / 1000).toBeGreaterThanOrEqual(60);
  });

  it("/work adds the latency it is asked for", async () => {
    const t0 = performance.now();
    await get(base, "/work?delay_ms=80");
    expect(performance.now() - t0).toBeGreaterThanOrEqual(80);
  });

  it("/work answers exactly the error rate: every fourth request at 0.25", async () => {
    const codes: number[] = [];
    for (let i = 0; i < 12; i++) codes.push((await get(base, "/work?error_rate=0.25")).status);
    expect(codes.filter((c) => c === 500)).toHaveLength(3);
    expect(codes.filter((c) => c === 200)).toHaveLength(9);
  });

  it("/work returns the body size asked for and writes to storage", async () => {
    expect((await get(base, "/work?bytes=1000")).body).toHaveLength(1000);
    const before = existsSync(journal.file) ? statSync(journal.file).size : 0;
    expect((await get(base, "/work?write=512")).status).toBe(200);
    expect(statSync(journal.file).size - before).toBe(512);
    expect(readFileSync(journal.file, "utf8").slice(-3)).toBe("...");
  });

  it("bad requests get 400 with the reason, unknown paths 404", async () => {
    expect(await get(base, "/work?cpu_ms=99999")).toStrictEqual({
      status: 400,
      body: JSON.stringify({ error: 'cpu_ms: expected a number from 0 to 10000 (got "99999")' }),
    });
    expect((await get(base, "/nope")).status).toBe(404);
  });

  it("/metrics exposes request counts, durations, storage and process figures in Prometheus text format", async () => {
    const before = await get(base, "/metrics");
    const count = (text: string, code: string): number =>
      Number(
        new RegExp(`^sut_requests_total\\{code="${code}",route="/work"\\} (\\d+)$`, "m").exec(text)?.[1] ?? 0,
      );
    await get(base, "/work");
    await get(base, "/work?error_rate=1");
    const after = (await get(base, "/metrics")).body;
    expect(count(after, "200") - count(before.body, "200")).toBe(1);
    expect(count(after, "500") - count(before.body, "500")).toBe(1);
    for (const name of [
      "sut_request_duration_seconds_bucket",
      "sut_storage_writes_total",
      "process_cpu_seconds_total",
      "process_resident_memory_bytes",
    ]) {
      expect(after).toMatch(new RegExp(`^${name}`, "m"));
    }
    expect(after).toMatch(/^# TYPE sut_request_duration_seconds histogram$/m);
    // prom-client writes `le` first; label order carries no meaning in the exposition.
    expect(after).toMatch(/^sut_request_duration_seconds_bucket\{le="\+Inf",route="\/work"\} \d+$/m);
  });
});

const SLAB = SESSION_SLAB_BYTES;

describe("the session cache: its memory follows the CPU the SUT spends serving", () => {
  /** A cache on a CPU clock the test moves: `spend(s)` is s seconds of the SUT's CPU. */
  const cacheOn = (options: SessionCacheOptions) => {
    let cpu = 0;
    const cache = new SessionCache(options, () => cpu);
    return { cache, spend: (s: number) => (cpu += s) };
  };

  it("holds bytesPerCpuSecond for each CPU second spent since the previous session, in whole slabs", () => {
    const { cache, spend } = cacheOn({ ttlMs: 1000, bytesPerCpuSecond: SLAB * 64, maxBytes: SLAB * 1000 });
    cache.open(0); // the first session has nothing before it to be charged for
    expect(cache.bytes).toBe(0);
    for (let t = 1; t <= 10; t++) {
      spend(1 / 64); // one slab's worth
      cache.open(t);
    }
    expect(cache.size).toBe(11);
    expect(cache.bytes).toBe(10 * SLAB);
    // Half a slab's worth twice: the credit carries over, one slab in all.
    spend(1 / 128);
    cache.open(11);
    expect(cache.bytes).toBe(10 * SLAB);
    spend(1 / 128);
    cache.open(12);
    expect(cache.bytes).toBe(11 * SLAB);
  });

  it("lets sessions past their lifetime go, and charges a request after a quiet spell only for the last ttl", () => {
    const { cache, spend } = cacheOn({ ttlMs: 1000, bytesPerCpuSecond: SLAB * 64, maxBytes: SLAB * 1000 });
    cache.open(0);
    for (let t = 1; t <= 5; t++) {
      spend(2 / 64);
      cache.open(t);
    }
    expect(cache.bytes).toBe(10 * SLAB);
    // A minute later with 1 s of CPU spent meanwhile (timers, collections): 1/60 of it counts,
    // one slab's worth (not the 64 the whole second would be).
    spend(1);
    cache.open(60_005);
    expect(cache.size).toBe(1);
    expect(cache.bytes).toBe(SLAB);
  });

  it("does not charge the next session for the cache's own work (it would feed itself)", () => {
    let cpu = 0;
    let allocating = 0;
    // The clock's read after a session's slabs were made sees the CPU making them took.
    const cache = new SessionCache(
      { ttlMs: 60_000, bytesPerCpuSecond: SLAB * 64, maxBytes: SLAB * 1000 },
      () => {
        const now = cpu;
        cpu += allocating;
        allocating = 0;
        return now;
      },
    );
    cache.open(0);
    cpu += 4 / 64;
    allocating = 1; // making the 4 slabs takes a whole CPU second: 64 slabs' worth
    cache.open(1);
    expect(cache.bytes).toBe(4 * SLAB);
    cpu += 1 / 64;
    cache.open(2);
    expect(cache.bytes).toBe(5 * SLAB);
    // A collection between requests is the cache's own work too.
    cpu += 1;
    cache.discount();
    cpu += 1 / 64;
    cache.open(3);
    expect(cache.bytes).toBe(6 * SLAB);
  });

  it("never holds more than its bound, however much CPU the load costs", () => {
    const { cache, spend } = cacheOn({ ttlMs: 60_000, bytesPerCpuSecond: SLAB * 100, maxBytes: SLAB * 20 });
    cache.open(0);
    let most = 0;
    for (let t = 1; t <= 50; t++) {
      spend(0.03 * (t % 7)); // 0 to 6 slabs a session
      cache.open(t);
      most = Math.max(most, cache.bytes);
    }
    // Filled to its bound, less at most one session (6 slabs): whole sessions go, oldest first.
    expect(most).toBeLessThanOrEqual(20 * SLAB);
    expect(most).toBeGreaterThan(14 * SLAB);
    // One request dearer than the whole bound holds the bound, not more.
    spend(10);
    cache.open(51);
    expect(cache.bytes).toBe(20 * SLAB);
    expect(cache.size).toBe(1);
  });

  it("sized from the SUT's share, holds the share of the memory that the SUT is kept busy, up to 3/4", () => {
    const share = { memoryBytes: 1024 ** 3, cores: 2 };
    const options = sessionCacheFor(share, 5000);
    expect(options.maxBytes).toBe(Math.floor(share.memoryBytes * SESSION_CACHE_MAX_SHARE));
    // 100 requests a second, the SUT using `busy` of its 2 cores; 10 s: past the first ttl.
    const steady = (busy: number) => {
      const { cache, spend } = cacheOn(options);
      for (let i = 0; i <= 1000; i++) {
        spend((busy * share.cores) / 100);
        cache.open(i * 10);
      }
      return cache.bytes / share.memoryBytes;
    };
    expect(steady(0.15)).toBeCloseTo(0.15, 2);
    expect(steady(0.55)).toBeCloseTo(0.55, 2);
    expect(steady(0.9)).toBeLessThanOrEqual(SESSION_CACHE_MAX_SHARE);
    expect(steady(0.9)).toBeGreaterThan(SESSION_CACHE_MAX_SHARE - 0.01);
  });
});

describe("the session cache in a running SUT", () => {
  async function sutWith(sessions: SessionCacheOptions) {
    const { server } = createSut({ defaults: DEFAULTS, sessions });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const gauge = async (name: string): Promise<number> =>
      Number(new RegExp(`^${name} (\\d+)$`, "m").exec((await get(base, "/metrics")).body)?.[1]);
    const close = async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    };
    return { base, gauge, close };
  }

  it("holds more for dearer requests: one session a request, its bytes from the CPU the request cost", async () => {
    // 1 MiB per CPU second, sessions that outlive the test.
    const options = { ttlMs: 600_000, bytesPerCpuSecond: 1024 ** 2, maxBytes: 1024 ** 3 };
    const cheap = await sutWith(options);
    const dear = await sutWith(options);
    try {
      for (let i = 0; i < 21; i++) await get(cheap.base, "/work");
      for (let i = 0; i < 21; i++) await get(dear.base, "/work?cpu_ms=25");
      expect(await cheap.gauge("sut_sessions")).toBe(21);
      expect(await dear.gauge("sut_sessions")).toBe(21);
      // 20 charged requests × at least 25 ms of CPU: at least 0.5 MiB, in whole slabs.
      const dearBytes = await dear.gauge("sut_session_cache_bytes");
      expect(dearBytes % SLAB).toBe(0);
      expect(dearBytes).toBeGreaterThanOrEqual(Math.floor((20 * 0.025 * 1024 ** 2) / SLAB) * SLAB);
      expect(dearBytes).toBeGreaterThan(await cheap.gauge("sut_session_cache_bytes"));
    } finally {
      await cheap.close();
      await dear.close();
    }
  });

  it("never holds more than its bound, and lets sessions past their lifetime go", async () => {
    const bounded = await sutWith({ ttlMs: 600_000, bytesPerCpuSecond: 1024 ** 3, maxBytes: 10 * SLAB });
    const short = await sutWith({ ttlMs: 50, bytesPerCpuSecond: 1024 ** 2, maxBytes: 1024 ** 3 });
    try {
      for (let i = 0; i < 10; i++) await get(bounded.base, "/work?cpu_ms=5");
      expect(await bounded.gauge("sut_session_cache_bytes")).toBe(10 * SLAB);
      for (let i = 0; i < 5; i++) await get(short.base, "/work");
      await new Promise((r) => setTimeout(r, 120));
      await get(short.base, "/work");
      expect(await short.gauge("sut_sessions")).toBe(1);
    } finally {
      await bounded.close();
      await short.close();
    }
  });
});
