/**
 * Response latencies in log-spaced buckets (1 % apart) from 1 µs to ~27 h: constant memory, one
 * `Math.log` per value, any percentile with at most 1 % relative error. The exact minimum, maximum
 * and mean are kept beside the buckets.
 *
 * Mergeable: the load workers each keep one and send it as `SerializedHistogram` (the non-empty
 * buckets); `merge` adds them bucket by bucket, so a phase's percentiles over all its workers are
 * those of one histogram that had seen every response — never an average of percentiles.
 *
 * The bound: for a latency of at least 1 µs, a percentile read here is never below the exact
 * (nearest-rank) percentile of the recorded values and at most `RELATIVE_ERROR` above it.
 */
const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
const MIN_US = 1;
const BUCKETS = Math.ceil(Math.log(1e11 / MIN_US) / LOG_GROWTH) + 2;

/** How far above the exact percentile a percentile read from the histogram may be (relative). */
export const RELATIVE_ERROR = GROWTH - 1;
/** Number of buckets: a serialized bucket index is below this. */
export const BUCKET_COUNT = BUCKETS;

/** A histogram as JSON: `[bucket, count]` for each non-empty bucket, ascending, and the exact figures. */
export interface SerializedHistogram {
  readonly buckets: readonly (readonly [number, number])[];
  readonly count: number;
  readonly sum: number;
  readonly min: number | null;
  readonly max: number | null;
}

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

  /** Adds every value `other` recorded, bucket by bucket (exact: as if this had recorded them). */
  merge(other: LatencyHistogram | SerializedHistogram): void {
    const o = other instanceof LatencyHistogram ? other.toJSON() : other;
    if (o.count === 0) return;
    for (const [bucket, n] of o.buckets) this.counts[bucket]! += n;
    this.count += o.count;
    this.sum += o.sum;
    if (o.min !== null && o.min < this.min) this.min = o.min;
    if (o.max !== null && o.max > this.max) this.max = o.max;
  }

  toJSON(): SerializedHistogram {
    const buckets: [number, number][] = [];
    for (let i = 0; i < BUCKETS; i++) if (this.counts[i]! > 0) buckets.push([i, this.counts[i]!]);
    return {
      buckets,
      count: this.count,
      sum: this.sum,
      min: this.count > 0 ? this.min : null,
      max: this.count > 0 ? this.max : null,
    };
  }

  /**
   * Checks a serialized histogram (from a worker's output: untrusted) and rebuilds it; returns a
   * problem instead when its buckets are out of range, out of order or do not add up to its count.
   */
  static fromJSON(h: SerializedHistogram): LatencyHistogram | string {
    let total = 0;
    let last = -1;
    for (const [bucket, n] of h.buckets) {
      if (!Number.isInteger(bucket) || bucket <= last || bucket >= BUCKETS)
        return `bucket ${bucket} is out of range or out of order (0 to ${BUCKETS - 1}, ascending)`;
      if (!Number.isInteger(n) || n <= 0)
        return `bucket ${bucket} has count ${n} (expected a positive integer)`;
      last = bucket;
      total += n;
    }
    if (total !== h.count) return `the buckets hold ${total} values but count says ${h.count}`;
    if (h.count > 0 && (h.min === null || h.max === null || h.min > h.max || h.min < 0))
      return "min and max are missing or inconsistent";
    const out = new LatencyHistogram();
    out.merge(h);
    return out;
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
