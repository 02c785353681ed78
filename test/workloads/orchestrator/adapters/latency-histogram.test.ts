import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LatencyHistogram } from "../../../../workloads/orchestrator/adapters/latency-histogram.js";

/** Nearest-rank percentile of the exact values. */
function exact(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
}

describe("latency histogram", () => {
  it("every percentile is within 1 % of the exact one (values from 1 µs to 10 minutes)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0.001, max: 600_000, noNaN: true }), { minLength: 1, maxLength: 400 }),
        fc.constantFrom(0.5, 0.9, 0.95, 0.99, 1),
        (values, q) => {
          const h = new LatencyHistogram();
          for (const v of values) h.record(v);
          const want = exact(values, q);
          expect(Math.abs(h.percentile(q)! - want) / want).toBeLessThanOrEqual(0.0101);
        },
      ),
    );
  });

  it("keeps the exact count, minimum, maximum and mean, and ignores what is not a latency", () => {
    const h = new LatencyHistogram();
    for (const v of [2, 4, 6, Number.NaN, -1, Number.POSITIVE_INFINITY]) h.record(v);
    expect(h.summary()).toMatchObject({ count: 3, min: 2, max: 6, mean: 4 });
    h.reset();
    expect([h.summary(), h.percentile(0.5)]).toStrictEqual([null, null]);
  });
});
