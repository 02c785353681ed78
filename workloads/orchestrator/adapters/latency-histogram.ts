/**
 * Response latencies in log-spaced buckets (1 % apart) from 1 µs to ~27 h: constant memory, one
 * `Math.log` per value, any percentile with at most 1 % relative error. The exact minimum, maximum
 * and mean are kept beside the buckets.
 */
const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
const MIN_US = 1;
const BUCKETS = Math.ceil(Math.log(1e11 / MIN_US) / LOG_GROWTH) + 2;

/** The bucket of a latency in ms (finite, not negative). */
export function bucketOf(ms: number): number {
  const us = ms * 1000;
  return us < MIN_US ? 0 : Math.min(BUCKETS - 1, 1 + Math.floor(Math.log(us / MIN_US) / LOG_GROWTH));
}

export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  count = 0;
  private sum = 0;
  private min = Infinity;
  private max = -Infinity;

  record(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    this.add(bucketOf(ms), ms);
  }

  /** Adds a value whose bucket is already known (one `Math.log` for several histograms). */
  add(bucket: number, ms: number): void {
    this.counts[bucket]! += 1;
    this.count += 1;
    this.sum += ms;
    if (ms < this.min) this.min = ms;
    if (ms > this.max) this.max = ms;
  }

  /** The value below which `q` (0–1) of the recorded latencies fall, in ms; null when empty. */
  percentile(q: number): number | null {
    if (this.count === 0) return null;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) {
        // Upper edge of the bucket, clamped into the exact range seen.
        const upperMs = i === 0 ? MIN_US / 1000 : (MIN_US * GROWTH ** i) / 1000;
        return Math.min(this.max, Math.max(this.min, upperMs));
      }
    }
    return this.max;
  }

  summary(): LatencySummary | null {
    if (this.count === 0) return null;
    return {
      count: this.count,
      min: this.min,
      mean: this.sum / this.count,
      p50: this.percentile(0.5)!,
      p90: this.percentile(0.9)!,
      p95: this.percentile(0.95)!,
      p99: this.percentile(0.99)!,
      max: this.max,
    };
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.sum = 0;
    this.min = Infinity;
    this.max = -Infinity;
  }
}

export interface LatencySummary {
  readonly count: number;
  readonly min: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}
