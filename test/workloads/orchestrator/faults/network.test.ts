import { Agent, request } from "node:http";
import { createConnection } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { runFault } from "../../../../workloads/orchestrator/faults/injector.js";
import { NetworkDegradationInjector } from "../../../../workloads/orchestrator/faults/network-degradation.js";
import { NetworkPartitionInjector } from "../../../../workloads/orchestrator/faults/network-partition.js";
import { FaultProxy, NO_FAULTS } from "../../../../workloads/orchestrator/faults/network-proxy.js";
import type { CycleEvent } from "../../../../workloads/shared/cycle.js";
import type { SutSupervisor } from "../../../../workloads/sut/supervisor.js";
import { get, startSut } from "../../support/sut.js";
import { waitFor } from "../../support/wait.js";

async function timed(url: string, path: string): Promise<{ status: number; ms: number; bytes: number }> {
  const t0 = performance.now();
  const r = await get(url, path, 20_000);
  return { status: r.status, ms: performance.now() - t0, bytes: r.body.length };
}

/** One keep-alive connection through which requests are made, to see what a partition does to it. */
function keepAliveGet(port: number, agent: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/healthz", agent }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("the fault proxy in front of the SUT", () => {
  let sut: SutSupervisor;
  let proxy: FaultProxy;
  beforeAll(async () => {
    sut = await startSut();
    proxy = await FaultProxy.start({ target: { host: "127.0.0.1", port: Number(new URL(sut.url).port) } });
  });
  afterEach(() => {
    proxy.update(NO_FAULTS);
  });
  afterAll(async () => {
    await proxy.close();
    await sut.stop();
  });

  it("listens on loopback and passes traffic through unchanged", async () => {
    expect(proxy.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await get(proxy.url, "/work?bytes=5000")).body).toBe(".".repeat(5000));
    expect(proxy.stats().bytesDown).toBeGreaterThan(5000);
  });

  it("adds latency each way: a request and its answer take at least twice the one-way delay", async () => {
    proxy.update({ latencyMs: 100 });
    const r = await timed(proxy.url, "/healthz");
    expect(r.status).toBe(200);
    expect(r.ms).toBeGreaterThanOrEqual(200);
  });

  it("spreads latency by the jitter, never below latency − jitter", async () => {
    proxy.update({ latencyMs: 60, jitterMs: 40 });
    const times = [];
    for (let i = 0; i < 8; i++) times.push((await timed(proxy.url, "/healthz")).ms);
    for (const ms of times) expect(ms).toBeGreaterThanOrEqual(2 * (60 - 40));
    expect(new Set(times.map(Math.round)).size).toBeGreaterThan(1);
  });

  it("caps bandwidth: 150 kB at 100 kB/s takes at least 1.5 s", async () => {
    proxy.update({ bandwidthBytesPerSec: 100_000 });
    const r = await timed(proxy.url, "/work?bytes=150000");
    expect(r.bytes).toBe(150_000);
    expect(r.ms).toBeGreaterThanOrEqual(1450);
  });

  it("partition (refuse): open connections are reset and new ones refused, until healed", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      expect(await keepAliveGet(proxy.port, agent)).toBe(200);
      const active = proxy.stats().active; // this agent's connection, and fetch's pooled ones
      expect(active).toBeGreaterThanOrEqual(1);
      const { reset } = proxy.update({ partition: "refuse" });
      expect([reset, proxy.stats().active]).toStrictEqual([active, 0]);
      await expect(keepAliveGet(proxy.port, agent)).rejects.toThrow(/ECONNRESET|socket hang up/);
      const refused = proxy.stats().refused;
      await new Promise((resolve) => {
        const fresh = createConnection({ host: "127.0.0.1", port: proxy.port });
        fresh.on("error", () => undefined);
        fresh.on("close", resolve);
      });
      expect(proxy.stats().refused).toBe(refused + 1);
      proxy.update({ partition: false });
      expect((await get(proxy.url, "/healthz")).status).toBe(200);
    } finally {
      agent.destroy();
    }
  });

  it("partition (blackhole): connections stay open but nothing comes back; healing drops them", async () => {
    proxy.update({ partition: "blackhole" });
    await expect(get(proxy.url, "/healthz", 300)).rejects.toThrow(/aborted|timeout/i);
    const socket = createConnection({ host: "127.0.0.1", port: proxy.port });
    await new Promise((resolve) => socket.once("connect", resolve));
    const closed = new Promise((resolve) => socket.once("close", resolve));
    socket.on("error", () => undefined);
    socket.write("GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n");
    await waitFor("the proxy to hold the connection", () => proxy.stats().active >= 1);
    const { reset } = proxy.update({ partition: false });
    expect(reset).toBeGreaterThanOrEqual(1);
    await closed;
    expect((await get(proxy.url, "/healthz")).status).toBe(200);
  });

  it("network_partition as an injector: applied, held, healed, recorded", async () => {
    const events: CycleEvent[] = [];
    const record = await runFault(new NetworkPartitionInjector(proxy), {
      phase: "chaos",
      durationMs: 50,
      emit: (e) => events.push(e),
    });
    expect(record.outcome).toBe("undone");
    expect(events.map((e) => [e.kind, e.scenario])).toStrictEqual([
      ["fault.applied", "network_partition"],
      ["fault.undone", "network_partition"],
    ]);
    expect(events[0]!.detail).toMatchObject({ mode: "refuse", proxy_port: proxy.port });
    expect(proxy.conditions.partition).toBe(false);
  });

  it("network_delay restores the region latency that was there before", async () => {
    proxy.update({ latencyMs: 38 });
    const degrade = new NetworkDegradationInjector(proxy, {
      latencyMs: 250,
      jitterMs: 50,
      bandwidthBytesPerSec: 1_000_000,
    });
    expect(await degrade.apply()).toStrictEqual({
      latency_ms: 250,
      jitter_ms: 50,
      bandwidth_bytes_per_sec: 1_000_000,
    });
    expect((await timed(proxy.url, "/healthz")).ms).toBeGreaterThanOrEqual(400);
    await degrade.undo();
    expect(proxy.conditions).toStrictEqual({ ...NO_FAULTS, latencyMs: 38 });
  });

  it("without a proxy the network injectors are skipped", () => {
    expect(new NetworkPartitionInjector(undefined).unavailable()).toBe("no fault proxy in front of the SUT");
    expect(new NetworkDegradationInjector(undefined, { latencyMs: 1 }).unavailable()).toBe(
      "no fault proxy in front of the SUT",
    );
  });
});
