import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCatalog } from "../../../../tiers/catalog.js";
import {
  AUTOCANNON_VERSION,
  loadSecondSamples,
  startHttpLoad,
  type LoadSecond,
} from "../../../../workloads/orchestrator/adapters/http-load-run.js";
import { runTest } from "../../../../workloads/orchestrator/adapters/run-test.js";
import { Sample } from "../../../../workloads/shared/cycle.js";
import type { SutSupervisor } from "../../../../workloads/sut/supervisor.js";
import { planTest, runContext, scratchDir, validResult } from "../../support/context.js";
import { evaluateCase, list, loadCase, metric, num } from "../../support/fixtures.js";
import { startSut } from "../../support/sut.js";

const recorded = (name: string): unknown => JSON.parse(loadCase("http-load", name).stdout);
const contracts = loadCatalog().contracts;

describe("http-load adapter on recorded load reports", () => {
  it("success: counts from autocannon, rate over its duration, percentiles from every response", () => {
    const r = recorded("success");
    const e = evaluateCase("http-load", "success");
    expect(e.status, e.reason).toBe("passed");
    expect(metric(e, "requests")).toBe(num(r, "autocannon", "requests", "total"));
    expect(metric(e, "rps")).toBe(
      num(r, "autocannon", "requests", "total") / num(r, "autocannon", "duration"),
    );
    expect(metric(e, "throughput")).toBe(
      num(r, "autocannon", "throughput", "total") / num(r, "autocannon", "duration"),
    );
    expect(metric(e, "latency_p50")).toBe(num(r, "latency_ms", "p50"));
    expect(metric(e, "latency_p95")).toBe(num(r, "latency_ms", "p95"));
    expect(metric(e, "latency_p99")).toBe(num(r, "latency_ms", "p99"));
    expect(metric(e, "error_rate")).toBe(0);
    expect(e.metrics.rps?.unit).toBe("req/sec");
    expect(e.metrics.latency_p99?.unit).toBe("ms");
    expect(e.validation).toStrictEqual({ status: "passed", checks: { error_rate_check: "passed" } });
    // Every response was seen second by second too.
    expect(list(r, "seconds").reduce((n: number, s) => n + num(s, "responses"), 0)).toBe(
      num(r, "autocannon", "requests", "total"),
    );
  });

  it("a SUT answering 500 to everything: error_rate 1 fails the contract's rule", () => {
    const r = recorded("all-500");
    const e = evaluateCase("http-load", "all-500");
    expect(metric(e, "non_2xx")).toBe(num(r, "autocannon", "requests", "total"));
    expect(e.status).toBe("failed");
    expect(e.reason).toBe("contract rules failed: error_rate_check (got 1 ratio, expected <= 0.1)");
  });

  it("nothing listening: failed with the count of connection errors", () => {
    const r = recorded("refused");
    const e = evaluateCase("http-load", "refused");
    expect(e.status).toBe("failed");
    expect(e.reason).toBe(`no responses: ${num(r, "autocannon", "errors")} connection errors (0 timeouts)`);
  });

  it.each([
    ["truncated", "output is truncated: the JSON document ends early"],
    ["empty", "empty output"],
    ["garbage", 'output is not JSON (starts with "\\u0000��\\u001b[31m{\\n�(")'],
    ["deep-nesting", "output has no autocannon result"],
    ["proto-keys", "autocannon result has no valid requests"],
    ["huge-number", "autocannon result has no valid requests"],
    ["wrong-type", "autocannon result has no valid requests"],
  ])("%s → invalid: %s", (name, reason) => {
    const e = evaluateCase("http-load", name);
    expect([e.status, e.reason]).toStrictEqual(["invalid", reason]);
  });
});

describe("http-load against the sample SUT", () => {
  let sut: SutSupervisor;
  const scratch = scratchDir("http-load");
  beforeAll(async () => {
    sut = await startSut();
  });
  afterAll(async () => {
    await sut.stop();
    scratch.remove();
  });

  it("holds the target rate and reports every second while it runs", async () => {
    const seconds: LoadSecond[] = [];
    const ctx = runContext(scratch.dir, { sutUrl: sut.url, onLoadSecond: (s) => seconds.push(s) });
    const test = planTest("http-load", "HttpLoadContract", {
      path: "/work",
      rps: 200,
      connections: 4,
      duration: 2,
    });
    const r = validResult(await runTest(test, contracts, ctx));
    expect(r.status, r.reason).toBe("passed");
    expect(r.tool).toStrictEqual({ name: "http-load", version: AUTOCANNON_VERSION });
    expect(r.metrics.rps?.value as number).toBeGreaterThan(120);
    expect(r.metrics.rps?.value as number).toBeLessThan(230);
    expect(seconds.length).toBeGreaterThanOrEqual(2);
    expect(seconds.reduce((n, s) => n + s.responses, 0)).toBe(r.metrics.requests?.value);
    for (const s of seconds.flatMap((x) => loadSecondSamples(x, "baseline")))
      expect(() => Sample.parse(s)).not.toThrow();
  });

  it("latency includes what the SUT adds: 20 ms of delay shows in every percentile", async () => {
    const ctx = runContext(scratch.dir, { sutUrl: sut.url });
    const test = planTest("http-load", "HttpLoadContract", {
      path: "/work?delay_ms=20",
      rps: 50,
      connections: 2,
      duration: 1,
    });
    const r = await runTest(test, contracts, ctx);
    expect(r.status, r.reason).toBe("passed");
    for (const m of ["latency_p50", "latency_p90", "latency_p99"])
      expect(r.metrics[m]?.value as number, m).toBeGreaterThanOrEqual(20);
  });

  it("counts the SUT's errors: a 25 % error rate gives a quarter non-2xx", async () => {
    const ctx = runContext(scratch.dir, { sutUrl: sut.url });
    const test = planTest(
      "http-load",
      "HttpLoadContract",
      { path: "/work?error_rate=0.25", rps: 100, connections: 1, duration: 1 },
      { rules: { error_rate: { max: 0.3 } } },
    );
    const r = validResult(await runTest(test, contracts, ctx));
    const requests = r.metrics.requests?.value as number;
    expect(Math.abs((r.metrics.non_2xx?.value as number) - requests / 4)).toBeLessThanOrEqual(1);
    expect(r.status, r.reason).toBe("passed");
  });

  it("stops early when cancelled, and keeps what it measured", async () => {
    const controller = new AbortController();
    const ctx = runContext(scratch.dir, {
      sutUrl: sut.url,
      signal: controller.signal,
      onLoadSecond: () => controller.abort(new Error("phase aborted")),
    });
    const test = planTest("http-load", "HttpLoadContract", {
      path: "/work",
      rps: 100,
      connections: 2,
      duration: 30,
    });
    const r = validResult(await runTest(test, contracts, ctx));
    expect(r.status).toBe("failed");
    expect(r.reason).toBe("cancelled: phase aborted");
    expect(r.metrics.duration?.value as number).toBeLessThan(10);
    expect(r.metrics.requests?.value as number).toBeGreaterThan(0);
  });

  it("a run past its timeout is stopped and fails", async () => {
    const ctx = runContext(scratch.dir, { sutUrl: sut.url });
    const test = planTest(
      "http-load",
      "HttpLoadContract",
      { path: "/work", rps: 50, duration: 30 },
      { timeoutMs: 1200 },
    );
    const r = validResult(await runTest(test, contracts, ctx));
    expect(r.status).toBe("failed");
    expect(r.reason).toBe("timed out after 1200 ms; the run was stopped");
    expect(r.timings.duration_ms).toBeLessThan(10_000);
  });

  it("without a url or a SUT it cannot run", async () => {
    const r = validResult(
      await runTest(
        planTest("http-load", "HttpLoadContract", { duration: 1 }),
        contracts,
        runContext(scratch.dir),
      ),
    );
    expect(r.status).toBe("failed");
    expect(r.reason).toBe(
      "http-load could not run: the test has no url and the environment has no SUT to aim at",
    );
  });
});

describe("the load generator used for phase load", () => {
  let sut: SutSupervisor;
  beforeAll(async () => {
    sut = await startSut();
  });
  afterAll(() => sut.stop());

  it("stop() ends a run early and marks it so", async () => {
    const run = startHttpLoad({ url: `${sut.url}/work`, connections: 2, rps: 100, durationS: 60 });
    run.onSecond(() => run.stop());
    const report = await run.done;
    expect(report.stopped_early).toBe(true);
    expect(report.totals.duration_s).toBeLessThan(10);
    expect(report.seconds.length).toBeGreaterThanOrEqual(1);
  });

  it("refuses options autocannon refuses", async () => {
    await expect(
      startHttpLoad({ url: `${sut.url}/work`, connections: 1, rps: 0, durationS: -1 }).done,
    ).rejects.toThrow("duration can not be less than 0");
  });
});
