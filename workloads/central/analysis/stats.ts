import { studentTQuantile } from "./distributions.js";

/** Summary statistics of one metric's values (stddev and CI need at least two values). */
export interface Summary {
  readonly count: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly min: number;
  readonly max: number;
  /** Sample standard deviation (n − 1). */
  readonly stddev: number | null;
  /** 95 % confidence interval of the mean, Student's t with n − 1 degrees of freedom. */
  readonly ciLow: number | null;
  readonly ciHigh: number | null;
}

/** Quantile of sorted values with linear interpolation between order statistics (R's type 7). */
export function quantileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) throw new RangeError("quantile of no values");
  const h = (n - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

export function median(values: ArrayLike<number>): number {
  return quantileSorted(Float64Array.from(values).sort(), 0.5);
}

/** count, mean, p50/p90/p99, min, max, stddev and the 95 % CI of the mean. Sorts a copy. */
export function summarize(values: ArrayLike<number>): Summary {
  const n = values.length;
  if (n === 0) throw new RangeError("summary of no values");
  const sorted = Float64Array.from(values).sort();
  // Welford's update: stable for long series with a large mean.
  let mean = 0;
  let m2 = 0;
  for (let i = 0; i < n; i++) {
    const v = sorted[i]!;
    const delta = v - mean;
    mean += delta / (i + 1);
    m2 += delta * (v - mean);
  }
  const stddev = n > 1 ? Math.sqrt(m2 / (n - 1)) : null;
  const half = stddev === null ? null : (studentTQuantile(0.975, n - 1) * stddev) / Math.sqrt(n);
  return {
    count: n,
    mean,
    p50: quantileSorted(sorted, 0.5),
    p90: quantileSorted(sorted, 0.9),
    p99: quantileSorted(sorted, 0.99),
    min: sorted[0]!,
    max: sorted[n - 1]!,
    stddev,
    ciLow: half === null ? null : mean - half,
    ciHigh: half === null ? null : mean + half,
  };
}

/** A growable Float64Array, so millions of sample values cost 8 bytes each. */
export class ValueBuffer {
  private data = new Float64Array(256);
  length = 0;

  push(value: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = value;
  }

  values(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}
