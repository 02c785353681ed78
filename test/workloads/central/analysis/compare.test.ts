import { describe, expect, it } from "vitest";
import { seededRandom } from "../../../../tiers/plan/random.js";
import {
  adjustBenjaminiHochberg,
  compareValues,
  controlFalseDiscoveries,
} from "../../../../workloads/central/analysis/compare.js";
import { betterDirection } from "../../../../workloads/central/analysis/metric-info.js";

function normal(seed: number, n: number, mean: number, sd: number): number[] {
  const r = seededRandom(seed);
  return Array.from(
    { length: n },
    () => mean + sd * Math.sqrt(-2 * Math.log(Math.max(r(), 1e-12))) * Math.cos(2 * Math.PI * r()),
  );
}

describe("a metric's change between two runs", () => {
  it.each([
    ["load.p99_ms", 1.2, "regressed"],
    ["load.p99_ms", 0.8, "improved"],
    ["load.rps", 1.2, "improved"],
    ["load.rps", 0.8, "regressed"],
    ["iperf_loopback:bandwidth", 0.8, "regressed"],
    ["fio_randrw:read_clat_p99", 0.8, "improved"],
    ["custom.gauge", 1.2, "changed"],
  ] as const)("%s × %d is %s", (metric, factor, verdict) => {
    const baseline = normal(1, 300, 100, 5);
    const candidate = normal(2, 300, 100 * factor, 5 * factor);
    const c = compareValues(metric, baseline, candidate);
    expect(c.verdict).toBe(verdict);
    expect(c.relativeChange!).toBeCloseTo(factor - 1, 1);
    expect(c.pValue!).toBeLessThan(1e-10);
  });

  it("does not call noise a regression: same distribution, or a shift too small to matter", () => {
    expect(compareValues("load.p99_ms", normal(3, 300, 100, 5), normal(4, 300, 100, 5)).verdict).toBe(
      "unchanged",
    );
    // 2 % slower with little spread: certainly different, but below the 5 % that matters.
    const small = compareValues("load.p99_ms", normal(5, 3000, 100, 1), normal(6, 3000, 102, 1));
    expect(small.pValue!).toBeLessThan(1e-10);
    expect(small.verdict).toBe("unchanged");
  });

  it("says when there are too few values", () => {
    expect(compareValues("load.p99_ms", [1, 2, 3], [4, 5, 6, 7, 8])).toMatchObject({
      verdict: "insufficient_data",
      pValue: null,
    });
  });

  it.each([
    ["load.p99_ms", "lower"],
    ["load.errors", "lower"],
    ["http_probe:error_rate", "lower"],
    ["sut.cpu_pct", "lower"],
    ["sut.rss_bytes", "lower"],
    ["load.rps", "higher"],
    ["cpu_headroom:bogo_ops_per_sec_real", "higher"],
    ["fio_randrw:write_iops", "higher"],
    ["iperf_loopback:retransmits", "lower"],
    ["something", "none"],
  ] as const)("%s: %s is better", (metric, better) => {
    expect(betterDirection(metric)).toBe(better);
  });
});

describe("false discovery control across a report", () => {
  it.each([
    [
      [0.01, 0.02, 0.03, 0.04, 0.05],
      [0.05, 0.05, 0.05, 0.05, 0.05],
    ],
    [
      [0.01, 0.04, 0.03],
      [0.03, 0.04, 0.04],
    ],
    [
      [0.5, null, 0.001],
      [0.5, null, 0.002],
    ],
  ])("Benjamini–Hochberg of %j is %j (R's p.adjust 'BH')", (ps, expected) => {
    const adjusted = adjustBenjaminiHochberg(ps);
    expected.forEach((e, i) =>
      e === null ? expect(adjusted[i]).toBeNull() : expect(adjusted[i]!).toBeCloseTo(e, 12),
    );
  });

  it("keeps a real change and drops a marginal one among many null comparisons", () => {
    const changes = [
      compareValues("load.p99_ms", normal(7, 300, 100, 5), normal(8, 300, 130, 5)),
      ...Array.from({ length: 150 }, (_, i) =>
        compareValues("load.p99_ms", normal(100 + i, 40, 100, 20), normal(300 + i, 40, 100, 20)),
      ),
    ];
    const judged = controlFalseDiscoveries(changes);
    expect(judged[0]!.verdict).toBe("regressed");
    expect(judged.slice(1).filter((c) => c.verdict !== "unchanged")).toStrictEqual([]);
    expect(judged.every((c) => c.pAdjusted! >= c.pValue!)).toBe(true);
  });
});
