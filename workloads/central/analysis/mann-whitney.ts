import { normalCdf } from "./distributions.js";

export type Alternative = "two-sided" | "less" | "greater";

export interface MannWhitneyOptions {
  readonly alternative?: Alternative;
  /** Exact null distribution; default as R's wilcox.test: both samples < 50 and no ties. */
  readonly exact?: boolean;
  /** Continuity correction in the normal approximation (default true, as R). */
  readonly correct?: boolean;
}

export interface MannWhitney {
  /** U for `x`: pairs with x > y, plus half the ties (R's W). */
  readonly u: number;
  readonly n1: number;
  readonly n2: number;
  readonly pValue: number;
  readonly method: "exact" | "normal";
  /** The standardised statistic of the normal approximation (null for the exact method). */
  readonly z: number | null;
  readonly ties: boolean;
  /** Cliff's delta, P(x > y) − P(x < y) = 2U / (n1 n2) − 1, in [−1, 1]. */
  readonly cliffsDelta: number;
}

/** Average ranks (1-based) of the combined sample, and Σ(t³ − t) over tie groups. */
function rankSum(x: ArrayLike<number>, y: ArrayLike<number>): { rx: number; tieTerm: number } {
  const n1 = x.length;
  const n = n1 + y.length;
  const values = new Float64Array(n);
  for (let i = 0; i < n1; i++) values[i] = x[i]!;
  for (let i = 0; i < y.length; i++) values[n1 + i] = y[i]!;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a]! - values[b]!);
  let rx = 0;
  let tieTerm = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && values[order[j + 1]!] === values[order[i]!]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (order[k]! < n1) rx += rank;
    const t = j - i + 1;
    tieTerm += t * t * t - t;
    i = j + 1;
  }
  return { rx, tieTerm };
}

const exactCache = new Map<string, Float64Array>();

/**
 * P(U ≤ u) for u = 0 … n1·n2 under H0 with no ties: the number of ways to pick the ranks of `x`
 * among n1 + n2, by U. Picking rank r as the j-th smallest x adds r − j to U (the y's below it).
 */
function exactCdf(n1: number, n2: number): Float64Array {
  const key = `${n1}/${n2}`;
  const cached = exactCache.get(key);
  if (cached) return cached;
  const max = n1 * n2;
  const dp: Float64Array[] = Array.from({ length: n1 + 1 }, () => new Float64Array(max + 1));
  dp[0]![0] = 1;
  for (let r = 1; r <= n1 + n2; r++) {
    // j descending: row j − 1 still holds the counts from ranks < r (0/1 knapsack order).
    for (let j = Math.min(r, n1); j >= 1; j--) {
      const add = r - j;
      if (add > n2) continue;
      const from = dp[j - 1]!;
      const to = dp[j]!;
      for (let u = max - add; u >= 0; u--) if (from[u] !== 0) to[u + add] = to[u + add]! + from[u]!;
    }
  }
  const counts = dp[n1]!;
  let total = 0;
  for (const c of counts) total += c;
  const cdf = new Float64Array(max + 1);
  let acc = 0;
  for (let u = 0; u <= max; u++) {
    acc += counts[u]!;
    cdf[u] = acc / total;
  }
  exactCache.set(key, cdf);
  return cdf;
}

/**
 * The Mann–Whitney U (Wilcoxon rank-sum) test, as R's `wilcox.test(x, y)`: average ranks for
 * ties, the exact null distribution for small untied samples, otherwise the normal approximation
 * with tie-corrected variance and (by default) continuity correction.
 */
export function mannWhitneyU(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  options: MannWhitneyOptions = {},
): MannWhitney {
  const n1 = x.length;
  const n2 = y.length;
  if (n1 === 0 || n2 === 0) throw new RangeError("Mann–Whitney needs at least one value in each sample");
  const alternative = options.alternative ?? "two-sided";
  const { rx, tieTerm } = rankSum(x, y);
  const u = rx - (n1 * (n1 + 1)) / 2;
  const ties = tieTerm > 0;
  const cliffsDelta = (2 * u) / (n1 * n2) - 1;
  const exact = options.exact ?? (n1 < 50 && n2 < 50 && !ties);
  if (exact && !ties) {
    const cdf = exactCdf(n1, n2);
    const le = (q: number) => (q < 0 ? 0 : cdf[Math.min(q, n1 * n2)]!);
    const ge = (q: number) => 1 - le(q - 1);
    const pValue =
      alternative === "less"
        ? le(u)
        : alternative === "greater"
          ? ge(u)
          : Math.min(1, 2 * (u > (n1 * n2) / 2 ? ge(u) : le(u)));
    return { u, n1, n2, pValue, method: "exact", z: null, ties, cliffsDelta };
  }
  const n = n1 + n2;
  const sigma = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1))));
  const centred = u - (n1 * n2) / 2;
  const correction =
    options.correct === false
      ? 0
      : alternative === "two-sided"
        ? Math.sign(centred) * 0.5
        : alternative === "greater"
          ? 0.5
          : -0.5;
  if (sigma === 0) return { u, n1, n2, pValue: 1, method: "normal", z: 0, ties, cliffsDelta };
  const z = (centred - correction) / sigma;
  const pValue =
    alternative === "less"
      ? normalCdf(z)
      : alternative === "greater"
        ? normalCdf(-z)
        : Math.min(1, 2 * Math.min(normalCdf(z), normalCdf(-z)));
  return { u, n1, n2, pValue, method: "normal", z, ties, cliffsDelta };
}
