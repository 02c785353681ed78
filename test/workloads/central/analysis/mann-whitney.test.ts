import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { mannWhitneyU, type Alternative } from "../../../../workloads/central/analysis/mann-whitney.js";

/**
 * Reference values published with R's wilcox.test (printed to 16 digits, as collected in SciPy's
 * test suite for gh-9184 and gh-2118) and the example on R's ?wilcox.test help page.
 */
// Hollander & Wolfe (1973), p. 69: permeability constants at term (x) and at 12–26 weeks (y).
const x = [0.8, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46];
const y = [1.15, 0.88, 0.9, 0.74, 1.21];

describe("Mann–Whitney U against R's wilcox.test", () => {
  it.each<[string, { exact: boolean; correct?: boolean }, Alternative, number]>([
    ["exact", { exact: true }, "less", 0.8967698967699],
    ["exact", { exact: true }, "greater", 0.1272061272061],
    ["exact", { exact: true }, "two-sided", 0.2544122544123],
    ["normal, continuity-corrected", { exact: false }, "greater", 0.1223118025635],
    ["normal, continuity-corrected", { exact: false }, "two-sided", 0.244623605127],
    ["normal, uncorrected", { exact: false, correct: false }, "less", 0.8896643190401],
    ["normal, uncorrected", { exact: false, correct: false }, "greater", 0.1103356809599],
    ["normal, uncorrected", { exact: false, correct: false }, "two-sided", 0.2206713619198],
  ])("Hollander & Wolfe permeability, %s, %s: W = 35, p = %s", (_m, options, alternative, p) => {
    const r = mannWhitneyU(x, y, { ...options, alternative });
    expect(r.u).toBe(35);
    expect(r.pValue).toBeCloseTo(p, 12);
  });

  it("uses the exact distribution by default for small samples without ties", () => {
    expect(mannWhitneyU(x, y)).toMatchObject({ method: "exact", ties: false });
  });

  it.each<[number[], number[], Alternative, number, number]>([
    [[1, 2, 3], [1.5, 2.5], "greater", 3, 0.6135850036578],
    [[1, 2, 3], [1.5, 2.5], "two-sided", 3, 1],
    [[1, 2, 3], [2], "greater", 1.5, 0.681324055883],
    [[1, 2, 3], [2], "two-sided", 1.5, 1],
    [[1, 2], [1, 2], "greater", 2, 0.667497228949],
  ])(
    "normal approximation with ties and correction: %j vs %j (%s) → W = %d, p = %d",
    (a, b, alternative, w, p) => {
      const r = mannWhitneyU(a, b, { exact: false, alternative });
      expect(r.u).toBe(w);
      expect(r.pValue).toBeCloseTo(p, 11);
    },
  );

  it("R's airquality example: ozone in May vs August, W = 127.5, p-value = 0.0001208", () => {
    // wilcox.test(Ozone ~ Month, data = airquality, subset = Month %in% c(5, 8)); NAs dropped.
    const may = [
      41, 36, 12, 18, 28, 23, 19, 8, 7, 16, 11, 14, 18, 14, 34, 6, 30, 11, 1, 11, 4, 32, 23, 45, 115, 37,
    ];
    const aug = [
      39, 9, 16, 78, 35, 66, 122, 89, 110, 44, 28, 65, 22, 59, 23, 31, 44, 21, 9, 45, 168, 73, 76, 118, 84,
      85,
    ];
    const r = mannWhitneyU(may, aug);
    expect(r).toMatchObject({ u: 127.5, method: "normal", ties: true });
    expect(Math.abs(r.pValue - 0.0001208)).toBeLessThan(5e-8);
  });
});

describe("Mann–Whitney U properties", () => {
  const sample = fc.array(fc.integer({ min: -20, max: 20 }), { minLength: 1, maxLength: 30 });

  it("U counts the pairs where x wins, ties as half", () => {
    fc.assert(
      fc.property(sample, sample, (a, b) => {
        let wins = 0;
        for (const p of a) for (const q of b) wins += p > q ? 1 : p === q ? 0.5 : 0;
        const r = mannWhitneyU(a, b);
        expect(r.u).toBe(wins);
        expect(r.cliffsDelta).toBeCloseTo((2 * wins) / (a.length * b.length) - 1, 12);
      }),
    );
  });

  it("swapping the samples mirrors U and keeps the two-sided p-value", () => {
    fc.assert(
      fc.property(sample, sample, (a, b) => {
        const ab = mannWhitneyU(a, b);
        const ba = mannWhitneyU(b, a);
        expect(ab.u + ba.u).toBe(a.length * b.length);
        expect(ab.pValue).toBeCloseTo(ba.pValue, 12);
        expect(ab.pValue).toBeGreaterThan(0);
        expect(ab.pValue).toBeLessThanOrEqual(1);
      }),
    );
  });

  it("the exact distribution agrees with enumerating every assignment of ranks", () => {
    // 5 vs 4, no ties: C(9,5) = 126 assignments.
    const all: number[] = [];
    const choose = (start: number, left: number, picked: number[]) => {
      if (left === 0) {
        all.push(picked.reduce((s, r) => s + r, 0) - 15);
        return;
      }
      for (let r = start; r <= 9; r++) choose(r + 1, left - 1, [...picked, r]);
    };
    choose(1, 5, []);
    const a = [1, 4, 6, 8, 9];
    const b = [2, 3, 5, 7];
    const u = mannWhitneyU(a, b, { alternative: "greater" });
    expect(u.pValue).toBeCloseTo(all.filter((v) => v >= u.u).length / all.length, 14);
  });
});
