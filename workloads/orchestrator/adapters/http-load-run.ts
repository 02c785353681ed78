import autocannon from "autocannon";
import { createRequire } from "node:module";
import type { PhaseName } from "../../../tiers/schema/names.js";
import type { Sample } from "../../shared/cycle.js";
import {
  bucketOf,
  LatencyHistogram,
  type LatencySummary,
  type SerializedHistogram,
} from "./latency-histogram.js";

/**
 * HTTP load with autocannon's programmatic API, in process: the http-load adapter's engine and the
 * generator of each phase's own load. Besides autocannon's final result it reports every second's
 * figures while it runs (achieved RPS, p50/p95/p99, errors) and can be stopped early.
 *
 * Latency percentiles are computed here from each response's time (autocannon's `response`
 * event, sub-millisecond float) in 1 %-wide log buckets: autocannon's own histogram holds whole
 * milliseconds, so a loopback p50 of 0.3 ms would read as 0, and it has no p95. Counts (requests,
 * errors, timeouts, non-2xx, bytes) are autocannon's.
 */

export const AUTOCANNON_VERSION: string = (
  createRequire(import.meta.url)("autocannon/package.json") as { version: string }
).version;

export interface HttpLoadOptions {
  readonly url: string;
  readonly method?: "GET" | "POST" | "PUT";
  readonly connections: number;
  /** Overall target rate; 0 or absent runs unthrottled. */
  readonly rps?: number;
  readonly durationS: number;
  /** Per request, seconds. */
  readonly timeoutS?: number;
  readonly body?: string;
  /** Test mode: receives every response's latency (ms) as it is recorded. */
  readonly onLatency?: (ms: number) => void;
}

/** One second of a load run. Percentiles are null in a second without responses. */
export interface LoadSecond {
  /** Epoch ms at the end of the second. */
  readonly ts_ms: number;
  /** 1 for the first second of the run. */
  readonly second: number;
  /** Length of this interval in ms (the last one may be shorter). */
  readonly interval_ms: number;
  readonly responses: number;
  readonly rps: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly non_2xx: number;
  readonly p50_ms: number | null;
  readonly p95_ms: number | null;
  readonly p99_ms: number | null;
  readonly max_ms: number | null;
}

/** A run's counts: autocannon's for one generator, their sums for merged workers. */
export interface LoadTotals {
  readonly requests: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly non_2xx: number;
  readonly bytes: number;
  /** Seconds the load ran (the longest worker's, when merged). */
  readonly duration_s: number;
  /** Achieved requests per second: requests ÷ duration, or the sum of the workers' own rates. */
  readonly rps: number;
}

/** One load worker's part of a merged run. */
export interface WorkerPart {
  readonly index: number;
  readonly pid?: number;
  readonly pod?: string;
  /** The share of the target it was given. */
  readonly rps: number;
  readonly connections: number;
  readonly requests: number;
  readonly duration_s: number;
  /** Its own achieved rate (requests ÷ its duration); the parts' rates sum to the run's. */
  readonly achieved_rps: number;
  /** Why its output is incomplete (crashed, malformed line, no report); absent when it finished. */
  readonly problem?: string;
}

/** Everything a load run measured: the raw record the adapter stores and parses. */
export interface LoadReport {
  readonly generator: { readonly name: "autocannon"; readonly version: string };
  readonly target: {
    readonly url: string;
    readonly method: string;
    readonly connections: number;
    readonly rps: number;
    readonly duration_s: number;
  };
  readonly stopped_early: boolean;
  /** autocannon's own result: in-process runs only (a merged run has `workers`). */
  readonly autocannon?: autocannon.Result;
  readonly totals: LoadTotals;
  readonly latency_ms: LatencySummary | null;
  /** Every response's latency: the whole run's histogram. */
  readonly histogram: SerializedHistogram;
  readonly seconds: readonly LoadSecond[];
  /** The workers a merged run ran in (`--load-workers`, a load Job's pods). */
  readonly workers?: readonly WorkerPart[];
}

export type SecondListener = (second: LoadSecond, histogram: SerializedHistogram) => void;

export interface HttpLoadRun {
  /** Called at the end of every second (and once for the last, partial one), with that second's histogram. */
  onSecond(listener: SecondListener): void;
  /** Ends the run now; `done` then resolves with what was measured. Idempotent. */
  stop(): void;
  /** Resolves when the run ends; rejects only when autocannon refuses the options. */
  readonly done: Promise<LoadReport>;
}

/** Starts a load run. */
export function startHttpLoad(options: HttpLoadOptions): HttpLoadRun {
  const listeners: SecondListener[] = [];
  const whole = new LatencyHistogram();
  const second = new LatencyHistogram();
  const seconds: LoadSecond[] = [];
  let counts = { errors: 0, timeouts: 0, non2xx: 0 };
  let stoppedEarly = false;
  let finished = false;
  let intervalStart = performance.now();

  const flush = (): void => {
    const now = performance.now();
    const intervalMs = now - intervalStart;
    if (intervalMs < 1) return;
    intervalStart = now;
    const s: LoadSecond = {
      ts_ms: Date.now(),
      second: seconds.length + 1,
      interval_ms: Math.round(intervalMs),
      responses: second.count,
      rps: (second.count * 1000) / intervalMs,
      errors: counts.errors,
      timeouts: counts.timeouts,
      non_2xx: counts.non2xx,
      p50_ms: second.percentile(0.5),
      p95_ms: second.percentile(0.95),
      p99_ms: second.percentile(0.99),
      max_ms: second.count > 0 ? second.percentile(1) : null,
    };
    seconds.push(s);
    const histogram = listeners.length > 0 ? second.toJSON() : undefined;
    second.reset();
    counts = { errors: 0, timeouts: 0, non2xx: 0 };
    for (const l of listeners) {
      try {
        l(s, histogram!);
      } catch {
        // A listener's failure must not stop the load.
      }
    }
  };

  const rps = options.rps ?? 0;
  let instance: autocannon.Instance | undefined;
  let ticker: NodeJS.Timeout | undefined;
  const done = new Promise<LoadReport>((resolve, reject) => {
    instance = autocannon(
      {
        url: options.url,
        method: options.method ?? "GET",
        connections: options.connections,
        duration: options.durationS,
        timeout: options.timeoutS ?? 10,
        ...(rps > 0 ? { overallRate: rps } : {}),
        ...(options.body !== undefined ? { body: options.body } : {}),
      },
      (error: Error | null, result: autocannon.Result) => {
        finished = true;
        clearInterval(ticker);
        if (error) {
          reject(error);
          return;
        }
        flush();
        resolve({
          generator: { name: "autocannon", version: AUTOCANNON_VERSION },
          target: {
            url: options.url,
            method: options.method ?? "GET",
            connections: options.connections,
            rps,
            duration_s: options.durationS,
          },
          stopped_early: stoppedEarly,
          autocannon: result,
          totals: {
            requests: result.requests.total,
            errors: result.errors,
            timeouts: result.timeouts,
            non_2xx: result.non2xx,
            bytes: result.throughput.total,
            duration_s: result.duration,
            rps: result.duration > 0 ? result.requests.total / result.duration : 0,
          },
          latency_ms: whole.summary(),
          histogram: whole.toJSON(),
          seconds,
        });
      },
    );
  });
  // autocannon calls back synchronously when it refuses the options.
  if (!finished) ticker = setInterval(flush, 1000);
  // autocannon's typings name the arguments of `response` wrongly: it passes the client first.
  const emitter = instance as unknown as NodeJS.EventEmitter;
  emitter.on("response", (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
    if (Number.isFinite(responseTime) && responseTime >= 0) {
      const bucket = bucketOf(responseTime);
      whole.add(bucket, responseTime);
      second.add(bucket, responseTime);
      options.onLatency?.(responseTime);
    }
    if (statusCode < 200 || statusCode >= 300) counts.non2xx += 1;
  });
  emitter.on("reqError", (error: Error) => {
    counts.errors += 1;
    if (/timed out/.test(error.message)) counts.timeouts += 1;
  });
  return {
    onSecond: (l) => listeners.push(l),
    stop: () => {
      if (finished || stoppedEarly) return;
      stoppedEarly = true;
      instance?.stop();
    },
    done,
  };
}

/** A second's figures as the time series of a bundle (`load.rps`, `load.p99_ms`, `load.errors`, …). */
export function loadSecondSamples(s: LoadSecond, phase: PhaseName | null): Sample[] {
  const out: Sample[] = [
    { ts_ms: s.ts_ms, phase, series: "load.rps", value: s.rps },
    { ts_ms: s.ts_ms, phase, series: "load.errors", value: s.errors + s.non_2xx },
  ];
  if (s.p50_ms !== null) out.push({ ts_ms: s.ts_ms, phase, series: "load.p50_ms", value: s.p50_ms });
  if (s.p95_ms !== null) out.push({ ts_ms: s.ts_ms, phase, series: "load.p95_ms", value: s.p95_ms });
  if (s.p99_ms !== null) out.push({ ts_ms: s.ts_ms, phase, series: "load.p99_ms", value: s.p99_ms });
  return out;
}
