import type { AddressInfo } from "node:net";
import { existsSync, readFileSync, statSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSut, parseWork } from "../../../workloads/sut/server.js";
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

describe("the session cache", () => {
  async function sutWith(sessions: { ttlMs: number; maxEntries: number; bytes: number }) {
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

  it("holds one session per request served within its lifetime: memory follows the load", async () => {
    const s = await sutWith({ ttlMs: 60_000, maxEntries: 1000, bytes: 1024 });
    try {
      for (let i = 0; i < 30; i++) await get(s.base, "/work");
      expect(await s.gauge("sut_sessions")).toBe(30);
      expect(await s.gauge("sut_session_cache_bytes")).toBe(30 * 1024);
    } finally {
      await s.close();
    }
  });

  it("never holds more than its bound, and lets sessions past their lifetime go", async () => {
    const bounded = await sutWith({ ttlMs: 60_000, maxEntries: 10, bytes: 1024 });
    const short = await sutWith({ ttlMs: 50, maxEntries: 1000, bytes: 1024 });
    try {
      for (let i = 0; i < 25; i++) await get(bounded.base, "/work");
      expect(await bounded.gauge("sut_sessions")).toBe(10);
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
