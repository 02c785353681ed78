import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  normalCdf,
  studentTCdf,
  studentTQuantile,
} from "../../../../workloads/central/analysis/distributions.js";
import { quantileSorted, summarize } from "../../../../workloads/central/analysis/stats.js";

describe("distributions against published tables", () => {
  it.each([
    [1, 12.706204736174698],
    [2, 4.302652729749464],
    [5, 2.570581835636314],
    [7, 2.364624251592785],
    [10, 2.228138851986274],
    [30, 2.042272456301238],
    [120, 1.979930405052777],
  ])("Student's t 0.975 quantile, %d degrees of freedom = %d", (df, t) => {
    expect(studentTQuantile(0.975, df)).toBeCloseTo(t, 9);
    expect(studentTCdf(t, df)).toBeCloseTo(0.975, 10);
  });

  it.each([
    [0, 0.5],
    [1.959963984540054, 0.975],
    [-1, 0.15865525393145707],
    [-3, 0.0013498980316301],
    [-8, 6.220960574271784e-16],
  ])("Φ(%d) = %d", (z, p) => {
    expect(normalCdf(z) / p).toBeCloseTo(1, 10);
  });
});

describe("summary statistics", () => {
  it("quantiles interpolate as R's default (type 7): quantile(1:10, c(.5, .9, .99))", () => {
    const x = Float64Array.from({ length: 10 }, (_, i) => i + 1);
    expect([0.5, 0.9, 0.99].map((p) => quantileSorted(x, p))).toStrictEqual([5.5, 9.1, 9.91]);
  });

  it("gives mean, sample sd and the t interval of c(2, 4, 4, 4, 5, 5, 7, 9)", () => {
    const s = summarize([9, 2, 4, 5, 4, 7, 4, 5]);
    expect(s).toMatchObject({ count: 8, mean: 5, p50: 4.5, min: 2, max: 9 });
    // Σ(x − 5)² = 32, so sd = √(32/7).
    expect(s.stddev).toBeCloseTo(Math.sqrt(32 / 7), 12);
    // mean ± t(0.975, 7) · sd / √8, with t from the table above.
    const half = (2.364624251592785 * Math.sqrt(32 / 7)) / Math.sqrt(8);
    expect(s.ciLow).toBeCloseTo(5 - half, 9);
    expect(s.ciHigh).toBeCloseTo(5 + half, 9);
  });

  it("has no spread or interval for a single value", () => {
    expect(summarize([3])).toStrictEqual({
      count: 1,
      mean: 3,
      p50: 3,
      p90: 3,
      p99: 3,
      min: 3,
      max: 3,
      stddev: null,
      ciLow: null,
      ciHigh: null,
    });
  });

  it("orders min ≤ p50 ≤ p90 ≤ p99 ≤ max and brackets the mean by its interval", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 2, maxLength: 200 }),
        (v) => {
          const s = summarize(v);
          expect(s.min).toBeLessThanOrEqual(s.p50);
          expect(s.p50).toBeLessThanOrEqual(s.p90);
          expect(s.p90).toBeLessThanOrEqual(s.p99);
          expect(s.p99).toBeLessThanOrEqual(s.max);
          expect(s.ciLow!).toBeLessThanOrEqual(s.mean + 1e-6);
          expect(s.ciHigh!).toBeGreaterThanOrEqual(s.mean - 1e-6);
        },
      ),
    );
  });

  it("stays accurate for values far from zero (Welford)", () => {
    const s = summarize([1e9 + 4, 1e9 + 7, 1e9 + 13, 1e9 + 16]);
    expect(s.stddev).toBeCloseTo(Math.sqrt(30), 9);
  });
});
