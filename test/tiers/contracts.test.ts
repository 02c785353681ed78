import { describe, expect, it } from "vitest";
import { loadCatalog } from "../../tiers/catalog.js";
import {
  applyRules,
  compileContract,
  mergeTestValidation,
  validateParameters,
  validateResults,
} from "../../tiers/contracts/compile.js";

const catalog = loadCatalog();
const iperf = compileContract("IperfContract", catalog.contracts.IperfContract!);

describe("contracts", () => {
  it("compiles the seed's IperfValidator rules into numbers in the results' units", () => {
    expect(iperf.rules).toStrictEqual({
      bandwidth: { min: 100e6, max: 10e9 },
      jitter: { min: 0, max: 50 },
      retransmits: { max: 1000 },
      cpu_utilization_percent: { max: 80 },
    });
  });

  it("produces the validation block exactly as seed 000's IperfValidator does for its example output", () => {
    // seed 000's example: end stream 925.6e6 bit/s, jitter 0.92 ms, 2 retransmits, 12.4 % CPU
    const metrics = { bandwidth: 925.6e6, jitter: 0.92, retransmits: 2, cpu_utilization_percent: 12.4 };
    expect(applyRules(iperf.rules, metrics)).toStrictEqual({
      status: "passed",
      checks: {
        bandwidth_check: "passed",
        jitter_check: "passed",
        retransmits_check: "passed",
        cpu_utilization_percent_check: "passed",
      },
    });
  });

  it.each([
    ["bandwidth below 100 Mbps", { bandwidth: 99e6 }, { bandwidth_check: "failed" }],
    ["bandwidth above 10 Gbps", { bandwidth: 11e9 }, { bandwidth_check: "failed" }],
    ["jitter above 50 ms", { jitter: 50.5 }, { jitter_check: "failed" }],
    ["retransmits above 1000", { retransmits: 1001 }, { retransmits_check: "failed" }],
    ["CPU above 80 %", { cpu_utilization_percent: 81 }, { cpu_utilization_percent_check: "failed" }],
    ["a bound itself", { bandwidth: 10e9, jitter: 0 }, { bandwidth_check: "passed", jitter_check: "passed" }],
    ["a metric the tool did not report is skipped", { lost_percent: 3 }, {}],
    ["a non-number fails its check", { bandwidth: "fast" }, { bandwidth_check: "failed" }],
  ] as const)("%s", (_name, metrics, checks) => {
    const v = applyRules(iperf.rules, metrics);
    expect(v.checks).toStrictEqual(checks);
    expect(v.status).toBe(Object.values(checks).includes("failed") ? "failed" : "passed");
  });

  it("lets a test's validation block replace one side of a rule", () => {
    const { rules, problems } = mergeTestValidation(iperf, { min_bandwidth: "900M", max_latency: "10ms" });
    expect(problems).toStrictEqual([]);
    expect(rules.bandwidth).toStrictEqual({ min: 900e6, max: 10e9 });
    expect(rules.latency).toStrictEqual({ max: 10 });
  });

  it("applies parameter defaults and refuses what the contract does not allow", () => {
    expect(
      validateParameters(iperf, { duration: 30, parallel_streams: 4, bandwidth: "1G" }).value,
    ).toStrictEqual({
      duration: 30,
      parallel_streams: 4,
      bandwidth: "1G",
      protocol: "tcp",
      reverse: false,
    });
    expect(validateParameters(iperf, { protocol: "sctp" }).problems).toStrictEqual([
      { path: ["protocol"], message: "not an allowed value", got: '"sctp"', expected: "one of tcp, udp" },
    ]);
  });

  it("checks results: required metrics present, declared types respected, extra metrics kept", () => {
    expect(validateResults(iperf, { bandwidth: 1e9, extra: "kept" })).toStrictEqual([]);
    expect(validateResults(iperf, { jitter: 1 })).toStrictEqual([
      { path: ["bandwidth"], message: "is required", expected: "a number" },
    ]);
    expect(validateResults(iperf, { bandwidth: "1G" })).toStrictEqual([
      { path: ["bandwidth"], message: "wrong type", got: '"1G"', expected: "a number" },
    ]);
  });
});
