import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadCatalog } from "../../../../tiers/catalog.js";
import { runTest } from "../../../../workloads/orchestrator/adapters/run-test.js";
import { startIperf3Server } from "../../../../workloads/orchestrator/adapters/iperf3-server.js";
import { isAlive } from "../../../../workloads/orchestrator/process/proc.js";
import { planTest, runContext, scratchDir, validResult } from "../../support/context.js";
import { evaluateCase, list, loadCase, metric, num, reportedVersion } from "../../support/fixtures.js";

const recorded = (name: string): unknown => JSON.parse(loadCase("iperf3", name).stdout);
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const contracts = loadCatalog().contracts;

describe("iperf3 adapter on recorded outputs", () => {
  it("TCP: bandwidth is the receiver's sum, latency the senders' mean RTT in ms, with units", () => {
    const raw = recorded("tcp-parallel");
    const e = evaluateCase("iperf3", "tcp-parallel", { parallel_streams: 2 }, { bandwidth: { min: 1 } });
    expect(e.status).toBe("passed");
    expect(metric(e, "bandwidth")).toBe(num(raw, "end", "sum_received", "bits_per_second"));
    expect(metric(e, "bandwidth_sent")).toBe(num(raw, "end", "sum_sent", "bits_per_second"));
    expect(metric(e, "retransmits")).toBe(num(raw, "end", "sum_sent", "retransmits"));
    expect(metric(e, "latency")).toBeCloseTo(
      mean(list(raw, "end", "streams").map((s) => num(s, "sender", "mean_rtt"))) / 1000,
      9,
    );
    expect(metric(e, "cpu_utilization_percent")).toBe(
      num(raw, "end", "cpu_utilization_percent", "host_total"),
    );
    expect(e.metrics.bandwidth?.unit).toBe("bits/sec");
    expect(e.metrics.latency?.unit).toBe("ms");
    expect(e.validation).toStrictEqual({ status: "passed", checks: { bandwidth_check: "passed" } });
  });

  it("applies IperfValidator's rules: loopback beyond 10 Gbit/s fails bandwidth_check, the rest pass", () => {
    const raw = recorded("tcp-parallel");
    expect(num(raw, "end", "sum_received", "bits_per_second")).toBeGreaterThan(10e9); // the premise of this case
    const e = evaluateCase("iperf3", "tcp-parallel");
    expect(e.status).toBe("failed");
    expect(e.validation.status).toBe("failed");
    expect(e.validation.checks.bandwidth_check).toBe("failed");
    expect(e.validation.checks.retransmits_check).toBe(
      num(raw, "end", "sum_sent", "retransmits") <= 1000 ? "passed" : "failed",
    );
    expect(Object.keys(e.validation.checks).sort()).toStrictEqual(
      ["bandwidth_check", "cpu_utilization_percent_check", "retransmits_check"].sort(),
    );
    expect(e.reason).toMatch(
      /^contract rules failed: bandwidth_check \(got \d+ bits\/sec, expected >= 100000000 and <= 10000000000\)$/,
    );
  });

  it("reverse TCP: the client did not send, so no latency is claimed", () => {
    const e = evaluateCase("iperf3", "tcp-reverse", { reverse: true }, {});
    expect(e.status).toBe("passed");
    expect(metric(e, "bandwidth")).toBe(
      num(recorded("tcp-reverse"), "end", "sum_received", "bits_per_second"),
    );
    expect(e.metrics.latency).toBeUndefined();
  });

  it("UDP: jitter, loss and packets from the receiver's sum", () => {
    const raw = recorded("udp");
    const e = evaluateCase("iperf3", "udp", { protocol: "udp", bandwidth: "100M" }, { jitter: { max: 50 } });
    expect(e.status).toBe("passed");
    expect(metric(e, "bandwidth")).toBe(num(raw, "end", "sum_received", "bits_per_second"));
    expect(metric(e, "jitter")).toBe(num(raw, "end", "sum_received", "jitter_ms"));
    expect(metric(e, "lost_percent")).toBe(num(raw, "end", "sum_received", "lost_percent"));
    expect(metric(e, "packets")).toBe(num(raw, "end", "sum_received", "packets"));
    expect(e.metrics.retransmits).toBeUndefined();
    expect(e.validation).toStrictEqual({ status: "passed", checks: { jitter_check: "passed" } });
  });

  it.each([
    ["refused", "failed", "iperf3 reported an error: unable to connect to server: Connection refused"],
    ["server-busy", "failed", "iperf3 reported an error: the server is busy running a test. try again later"],
    ["bad-option", "failed", "iperf3 exited with code 1: iperf3: unrecognized option '--bogus'"],
    ["truncated", "invalid", "output is truncated: the JSON document ends early"],
    ["empty", "invalid", "empty output"],
    ["garbage", "invalid", 'output is not JSON (starts with "\\u0000��\\u001b[31m{\\n�(")'],
    ["deep-nesting", "invalid", "output is not a JSON object"],
    ["proto-keys", "invalid", "output has no end.sum_received.bits_per_second"],
    ["huge-number", "invalid", "output has no end.sum_received.bits_per_second"],
    ["wrong-type", "invalid", "output has no end.sum_received.bits_per_second"],
  ])("%s → %s: %s", (name, status, reason) => {
    const e = evaluateCase("iperf3", name);
    expect(e.status).toBe(status);
    expect(e.reason).toBe(reason);
    expect(e.metrics).toStrictEqual({});
    expect(e.validation).toStrictEqual({ status: "failed", checks: {} });
  });

  it("a refused connection exits 0 in iperf3 3.12: the error key alone makes the run fail", () => {
    expect(loadCase("iperf3", "refused").exitCode).toBe(0);
  });
});

describe("iperf3 adapter against the real iperf3", () => {
  const scratch = scratchDir("iperf3");
  afterAll(() => scratch.remove());
  const ctx = runContext(scratch.dir);

  it.each([
    [
      "TCP, 2 parallel streams",
      { duration: 1, parallel_streams: 2 },
      ["bandwidth", "bandwidth_sent", "retransmits", "latency"],
    ],
    ["TCP reverse", { duration: 1, reverse: true }, ["bandwidth", "bandwidth_sent"]],
    [
      "UDP at 50 Mbit/s",
      { duration: 1, protocol: "udp", bandwidth: "50M" },
      ["bandwidth", "jitter", "lost_percent"],
    ],
  ])(
    "%s: passes its contract with the tool's version and the raw output kept",
    async (_name, parameters, expected) => {
      const test = planTest("iperf3", "IperfContract", parameters, { rules: { bandwidth: { min: 1e6 } } });
      const r = validResult(await runTest(test, contracts, ctx));
      expect(r.status, r.reason).toBe("passed");
      expect(r.tool).toStrictEqual({
        name: "iperf3",
        version: reportedVersion("iperf3", ["--version"], /^iperf (\S+)/),
      });
      for (const m of expected) expect(typeof r.metrics[m]?.value, m).toBe("number");
      expect(r.validation).toStrictEqual({ status: "passed", checks: { bandwidth_check: "passed" } });
      const raw: unknown = JSON.parse(
        readFileSync(join(ctx.rawDir, r.raw.stdout!.replace(/^raw\//, "")), "utf8"),
      );
      expect(r.metrics.bandwidth?.value).toBe(num(raw, "end", "sum_received", "bits_per_second"));
      expect(r.exit_code).toBe(0);
    },
  );

  it("measures against the environment's own server when it has one, and leaves it running", async () => {
    const server = await startIperf3Server({ binary: "iperf3", oneOff: false });
    try {
      const test = planTest(
        "iperf3",
        "IperfContract",
        { duration: 1 },
        { rules: { bandwidth: { min: 1e6 } } },
      );
      const r = await runTest(test, contracts, runContext(scratch.dir, { iperf3Server: server }));
      expect(r.status, r.reason).toBe("passed");
      expect(isAlive(server.pid)).toBe(true);
    } finally {
      await server.stop();
    }
    expect(isAlive(server.pid)).toBe(false);
  });

  it("a server that is not there: failed with iperf3's own error, though iperf3 exits 0", async () => {
    const gone = await startIperf3Server({ binary: "iperf3" });
    await gone.stop();
    const test = planTest("iperf3", "IperfContract", { duration: 1, server: gone.host, port: gone.port });
    const r = validResult(await runTest(test, contracts, ctx));
    expect(r.status).toBe("failed");
    expect(r.exit_code).toBe(0);
    expect(r.reason).toBe("iperf3 reported an error: unable to connect to server: Connection refused");
  });
});
