import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { seededRandom } from "../../../../tiers/plan/random.js";
import { bestSplit, detectChangePoints } from "../../../../workloads/central/analysis/change-points.js";

/** Normal noise from a seeded generator (Box–Muller). */
function noise(seed: number): () => number {
  const random = seededRandom(seed);
  return () => Math.sqrt(-2 * Math.log(Math.max(random(), 1e-12))) * Math.cos(2 * Math.PI * random());
}

function series(segments: readonly [length: number, mean: number, sd: number][], seed: number): number[] {
  const n = noise(seed);
  return segments.flatMap(([length, mean, sd]) => Array.from({ length }, () => mean + sd * n()));
}

/** Q(τ) of Matteson & James, straight from the definition: O(n²) per split. */
function naiveQ(z: readonly number[], tau: number): number {
  const x = z.slice(0, tau);
  const y = z.slice(tau);
  let cross = 0;
  for (const a of x) for (const b of y) cross += Math.abs(a - b);
  const within = (v: number[]) => {
    let s = 0;
    for (let i = 0; i < v.length; i++) for (let j = i + 1; j < v.length; j++) s += Math.abs(v[i]! - v[j]!);
    return v.length > 1 ? s / ((v.length * (v.length - 1)) / 2) : 0;
  };
  const e = (2 * cross) / (x.length * y.length) - within(x) - within(y);
  return ((x.length * y.length) / z.length) * e;
}

describe("E-divisive means", () => {
  it("computes the best split's Q exactly as the definition does", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -50, max: 50 }), { minLength: 6, maxLength: 40 }), (z) => {
        const best = bestSplit(z, 3)!;
        let expected = { tau: -1, q: -Infinity };
        for (let tau = 3; tau <= z.length - 3; tau++) {
          const q = naiveQ(z, tau);
          if (q > expected.q + 1e-9) expected = { tau, q };
        }
        expect(best.q).toBeCloseTo(expected.q, 8);
        expect(naiveQ(z, best.tau)).toBeCloseTo(expected.q, 8);
      }),
    );
  });

  it("finds two planted level shifts where they are", () => {
    const z = series(
      [
        [100, 10, 1],
        [100, 15, 1],
        [100, 12, 1],
      ],
      42,
    );
    const found = detectChangePoints(z, { seed: 7 });
    expect(found.map((c) => c.index)).toStrictEqual([100, 200]);
    expect(found[0]!.meanBefore).toBeCloseTo(10, 0);
    expect(found[0]!.meanAfter).toBeCloseTo(15, 0);
    expect(found[1]!.meanAfter).toBeCloseTo(12, 0);
    for (const c of found) expect(c.pValue).toBeLessThanOrEqual(0.05);
  });

  it("finds a change in spread when the mean stays", () => {
    const z = series(
      [
        [150, 100, 1],
        [150, 100, 12],
      ],
      9,
    );
    const found = detectChangePoints(z, { seed: 3 });
    expect(found).toHaveLength(1);
    expect(Math.abs(found[0]!.index - 150)).toBeLessThanOrEqual(5);
  });

  it("finds nothing in a series without a change", () => {
    for (const seed of [1, 2, 3, 4, 5])
      expect(detectChangePoints(series([[300, 10, 1]], seed), { seed })).toStrictEqual([]);
  });

  it("reproduces the Hunter example: a throughput halving at index 10", () => {
    // The 20-point series of jhunter's README (a Java port of Apache Otava's Hunter).
    const z = [
      1.02, 0.95, 0.99, 1.0, 1.12, 1.0, 1.01, 0.98, 1.01, 0.96, 0.5, 0.51, 0.48, 0.48, 0.55, 0.5, 0.49, 0.51,
      0.5, 0.49,
    ];
    const [cp, ...rest] = detectChangePoints(z);
    expect(rest).toStrictEqual([]);
    expect(cp!.index).toBe(10);
    expect(cp!.meanBefore).toBeCloseTo(1.004, 3);
    expect(cp!.meanAfter).toBeCloseTo(0.501, 3);
    expect(cp!.relativeChange).toBeCloseTo(-0.501, 2);
  });

  it("is deterministic for a seed", () => {
    const z = series(
      [
        [60, 5, 1],
        [60, 6, 1],
      ],
      11,
    );
    expect(detectChangePoints(z, { seed: 5 })).toStrictEqual(detectChangePoints(z, { seed: 5 }));
  });
});
