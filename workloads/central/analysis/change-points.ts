import { seededRandom, seededShuffle } from "../../../tiers/plan/random.js";

/**
 * Change points in a series of runs with E-divisive means (Matteson & James 2014), the method
 * behind MongoDB's signal processing and Hunter / Apache Otava. Univariate, α = 1:
 *
 *   Q(τ) = nL·nR/(nL+nR) · ( 2/(nL·nR) Σ|x−y| − Σ|x−x'|/C(nL,2) − Σ|y−y'|/C(nR,2) )
 *
 * for a split of a segment into a left part X (nL values) and right part Y (nR). As in Hunter,
 * the right part runs to the end of the segment (no search over κ), which makes every Q(τ) of a
 * segment computable in O(n log n): within-part distance sums are accumulated with Fenwick trees
 * over value ranks, and the cross sum is the total minus both. Segments are split hierarchically:
 * the best split of all current segments is kept when a permutation test (values shuffled within
 * each segment, `permutations` times, seeded so the result is deterministic) finds its Q larger
 * than chance would at the given significance.
 */
export interface ChangePointOptions {
  /** p-value a split must reach (default 0.05). */
  readonly significance?: number;
  /** Shuffles per test (default 199, as R's ecp). */
  readonly permutations?: number;
  /** Fewest points either side of a change (default 3). */
  readonly minSize?: number;
  readonly seed?: number;
  readonly maxChangePoints?: number;
}

export interface ChangePoint {
  /** Index of the first point after the change. */
  readonly index: number;
  readonly pValue: number;
  readonly q: number;
  /** Means of the segments either side, in the final segmentation. */
  readonly meanBefore: number;
  readonly meanAfter: number;
  /** (after − before) / |before|, or null when before is 0. */
  readonly relativeChange: number | null;
}

interface Split {
  readonly tau: number;
  readonly q: number;
}

/** Fenwick tree with counts and sums over value ranks. */
class RankTree {
  private readonly count: Float64Array;
  private readonly sum: Float64Array;
  private n = 0;
  private total = 0;
  constructor(size: number) {
    this.count = new Float64Array(size + 1);
    this.sum = new Float64Array(size + 1);
  }
  add(rank: number, value: number): void {
    this.n++;
    this.total += value;
    for (let i = rank + 1; i < this.count.length; i += i & -i) {
      this.count[i]! += 1;
      this.sum[i]! += value;
    }
  }
  /** Σ |value − v| over the values added so far. */
  distanceSum(rank: number, value: number): number {
    let c = 0;
    let s = 0;
    for (let i = rank + 1; i > 0; i -= i & -i) {
      c += this.count[i]!;
      s += this.sum[i]!;
    }
    return value * c - s + (this.total - s) - value * (this.n - c);
  }
}

/** The best split of `z` (a segment's values in order), or undefined when it is too short. */
export function bestSplit(z: ArrayLike<number>, minSize: number): Split | undefined {
  const n = z.length;
  if (n < 2 * minSize) return undefined;
  const sorted = Float64Array.from(z).sort();
  const rank = (v: number) => {
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const ranks = Int32Array.from({ length: n }, (_, i) => rank(z[i]!));
  // within[t] = Σ|zi − zj| over i < j < t (left part [0, t)); within from the right likewise.
  const left = new Float64Array(n + 1);
  let tree = new RankTree(n);
  for (let t = 0; t < n; t++) {
    left[t + 1] = left[t]! + tree.distanceSum(ranks[t]!, z[t]!);
    tree.add(ranks[t]!, z[t]!);
  }
  const right = new Float64Array(n + 1);
  tree = new RankTree(n);
  for (let t = n - 1; t >= 0; t--) {
    right[t] = right[t + 1]! + tree.distanceSum(ranks[t]!, z[t]!);
    tree.add(ranks[t]!, z[t]!);
  }
  const total = left[n]!;
  let best: Split | undefined;
  for (let tau = minSize; tau <= n - minSize; tau++) {
    const nl = tau;
    const nr = n - tau;
    const wl = left[tau]!;
    const wr = right[tau]!;
    const cross = total - wl - wr;
    const e =
      (2 * cross) / (nl * nr) -
      (nl > 1 ? wl / ((nl * (nl - 1)) / 2) : 0) -
      (nr > 1 ? wr / ((nr * (nr - 1)) / 2) : 0);
    const q = ((nl * nr) / (nl + nr)) * e;
    if (!best || q > best.q) best = { tau, q };
  }
  return best;
}

const mean = (z: ArrayLike<number>, from: number, to: number): number => {
  let s = 0;
  for (let i = from; i < to; i++) s += z[i]!;
  return s / (to - from);
};

/** Change points of `series`, in index order. Deterministic for a given seed. */
export function detectChangePoints(
  series: readonly number[],
  options: ChangePointOptions = {},
): ChangePoint[] {
  const significance = options.significance ?? 0.05;
  const permutations = options.permutations ?? 199;
  const minSize = Math.max(2, options.minSize ?? 3);
  const maxChangePoints = options.maxChangePoints ?? Math.floor(series.length / minSize);
  const random = seededRandom(options.seed ?? 1);
  const bounds = [0, series.length];
  const found: { index: number; pValue: number; q: number }[] = [];
  const splitOf = (from: number, to: number) => bestSplit(series.slice(from, to), minSize);

  while (found.length < maxChangePoints) {
    let candidate: { from: number; split: Split } | undefined;
    for (let i = 0; i + 1 < bounds.length; i++) {
      const split = splitOf(bounds[i]!, bounds[i + 1]!);
      if (split && (!candidate || split.q > candidate.split.q)) candidate = { from: bounds[i]!, split };
    }
    if (!candidate || !(candidate.split.q > 0)) break;
    // Permutation test: how often does shuffling within each segment give a split as strong?
    const limit = significance * (permutations + 1);
    let asStrong = 0;
    let done = 0;
    for (; done < permutations && asStrong + 1 <= limit; done++) {
      let max = -Infinity;
      for (let i = 0; i + 1 < bounds.length; i++) {
        const shuffled = seededShuffle(series.slice(bounds[i], bounds[i + 1]), random);
        const s = bestSplit(shuffled, minSize);
        if (s && s.q > max) max = s.q;
      }
      if (max >= candidate.split.q) asStrong++;
    }
    const pValue = (asStrong + 1) / (done + 1);
    if (done < permutations || pValue > significance) break;
    const index = candidate.from + candidate.split.tau;
    found.push({ index, pValue, q: candidate.split.q });
    bounds.push(index);
    bounds.sort((a, b) => a - b);
  }
  return found
    .sort((a, b) => a.index - b.index)
    .map((cp) => {
      const at = bounds.indexOf(cp.index);
      const before = mean(series, bounds[at - 1]!, cp.index);
      const after = mean(series, cp.index, bounds[at + 1]!);
      return {
        ...cp,
        meanBefore: before,
        meanAfter: after,
        relativeChange: before === 0 ? null : (after - before) / Math.abs(before),
      };
    });
}
