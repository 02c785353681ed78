import {
  AUTOCANNON_VERSION,
  type HttpLoadOptions,
  type LoadReport,
  type LoadSecond,
  type SecondListener,
  type WorkerPart,
} from "../adapters/http-load-run.js";
import { LatencyHistogram, type SerializedHistogram } from "../adapters/latency-histogram.js";
import type { WorkerReport, WorkerSecond } from "./protocol.js";

/**
 * A phase's load split over workers, and their outputs merged back into one `LoadReport`: counts
 * summed, histograms added bucket by bucket (exact, latency-histogram.ts), each second's figures
 * from that second of every worker. Shared by the local engine (worker processes) and the cluster
 * engine (a load Job's pods).
 */

/** One worker's share of a run. */
export interface WorkerShare {
  readonly index: number;
  readonly rps: number;
  readonly connections: number;
}

/**
 * Splits a run over at most `workers` workers: never more workers than connections (each keeps at
 * least one) nor, when throttled, than requests per second; rates and connections as even as
 * integers allow, so the shares add up to the whole exactly.
 */
export function splitLoad(
  options: Pick<HttpLoadOptions, "rps" | "connections">,
  workers: number,
): WorkerShare[] {
  const rps = Math.max(0, Math.round(options.rps ?? 0));
  let n = Math.max(1, Math.min(Math.floor(workers), options.connections));
  if (rps > 0) n = Math.min(n, rps);
  const share = (total: number, i: number): number => Math.floor(total / n) + (i < total % n ? 1 : 0);
  return Array.from({ length: n }, (_, i) => ({
    index: i,
    rps: share(rps, i),
    connections: share(options.connections, i),
  }));
}

/** What one worker delivered: every valid second and its report, and why it is incomplete, if it is. */
export interface WorkerOutcome {
  readonly share: WorkerShare;
  readonly pid?: number;
  readonly pod?: string;
  readonly seconds: readonly (WorkerSecond & { readonly hist: LatencyHistogram })[];
  readonly report?: WorkerReport & { readonly hist: LatencyHistogram };
  readonly problem?: string;
}

/** A merged second from the parts the workers sent for it. */
export function mergeSecond(
  second: number,
  parts: readonly (WorkerSecond & { hist: LatencyHistogram })[],
): LoadSecond {
  const h = new LatencyHistogram();
  let errors = 0;
  let timeouts = 0;
  let non2xx = 0;
  let rps = 0;
  for (const p of parts) {
    h.merge(p.hist);
    errors += p.errors;
    timeouts += p.timeouts;
    non2xx += p.non_2xx;
    rps += p.interval_ms > 0 ? (p.responses * 1000) / p.interval_ms : 0;
  }
  return {
    ts_ms: Math.max(...parts.map((p) => p.ts_ms)),
    second,
    interval_ms: Math.max(...parts.map((p) => p.interval_ms)),
    responses: h.count,
    rps,
    errors,
    timeouts,
    non_2xx: non2xx,
    p50_ms: h.percentile(0.5),
    p95_ms: h.percentile(0.95),
    p99_ms: h.percentile(0.99),
    max_ms: h.count > 0 ? h.percentile(1) : null,
  };
}

/**
 * The run's report from its workers' outcomes. A worker without a report (it crashed, was killed,
 * wrote a malformed line) counts with every second it did report: nothing a worker delivered is
 * dropped, and its `problem` says what is missing.
 */
export function mergeOutcomes(
  options: HttpLoadOptions,
  outcomes: readonly WorkerOutcome[],
  stoppedEarly: boolean,
): LoadReport {
  const whole = new LatencyHistogram();
  const bySecond = new Map<number, (WorkerSecond & { hist: LatencyHistogram })[]>();
  let requests = 0;
  let errors = 0;
  let timeouts = 0;
  let non2xx = 0;
  let bytes = 0;
  let duration = 0;
  let rate = 0;
  const workers: WorkerPart[] = [];
  for (const o of outcomes) {
    for (const s of o.seconds) {
      const list = bySecond.get(s.second) ?? [];
      list.push(s);
      bySecond.set(s.second, list);
    }
    let w: {
      requests: number;
      errors: number;
      timeouts: number;
      non_2xx: number;
      bytes: number;
      duration_s: number;
    };
    if (o.report) {
      whole.merge(o.report.hist);
      w = o.report;
    } else {
      w = { requests: 0, errors: 0, timeouts: 0, non_2xx: 0, bytes: 0, duration_s: 0 };
      for (const s of o.seconds) {
        whole.merge(s.hist);
        w.requests += s.responses;
        w.errors += s.errors;
        w.timeouts += s.timeouts;
        w.non_2xx += s.non_2xx;
        w.duration_s += s.interval_ms / 1000;
      }
    }
    requests += w.requests;
    errors += w.errors;
    timeouts += w.timeouts;
    non2xx += w.non_2xx;
    bytes += w.bytes;
    duration = Math.max(duration, w.duration_s);
    const achieved = w.duration_s > 0 ? w.requests / w.duration_s : 0;
    rate += achieved;
    workers.push({
      index: o.share.index,
      ...(o.pid !== undefined ? { pid: o.pid } : {}),
      ...(o.pod !== undefined ? { pod: o.pod } : {}),
      rps: o.share.rps,
      connections: o.share.connections,
      requests: w.requests,
      duration_s: w.duration_s,
      achieved_rps: achieved,
      ...(o.problem !== undefined ? { problem: o.problem } : {}),
    });
  }
  const seconds = [...bySecond.entries()]
    .sort(([a], [b]) => a - b)
    .map(([n, parts]) => mergeSecond(n, parts));
  return {
    generator: { name: "autocannon", version: AUTOCANNON_VERSION },
    target: {
      url: options.url,
      method: options.method ?? "GET",
      connections: options.connections,
      rps: options.rps ?? 0,
      duration_s: options.durationS,
    },
    stopped_early: stoppedEarly,
    totals: { requests, errors, timeouts, non_2xx: non2xx, bytes, duration_s: duration, rps: rate },
    latency_ms: whole.summary(),
    histogram: whole.toJSON(),
    seconds,
    workers,
  };
}

/**
 * Emits merged seconds live and in order: second n once every worker still running has sent it
 * (a worker that ended no longer holds the others back).
 */
export class SecondMerger {
  private readonly pending = new Map<number, (WorkerSecond & { hist: LatencyHistogram })[]>();
  private readonly live: Set<number>;
  private readonly latest = new Map<number, number>();
  private next = 1;

  constructor(
    indexes: readonly number[],
    private readonly emit: (second: LoadSecond, histogram: SerializedHistogram) => void,
  ) {
    this.live = new Set(indexes);
  }

  add(part: WorkerSecond & { hist: LatencyHistogram }): void {
    const list = this.pending.get(part.second) ?? [];
    list.push(part);
    this.pending.set(part.second, list);
    this.latest.set(part.index, Math.max(this.latest.get(part.index) ?? 0, part.second));
    this.drain(false);
  }

  ended(index: number): void {
    this.live.delete(index);
    this.drain(false);
  }

  /** Emits whatever is left (the run is over). */
  flush(): void {
    this.drain(true);
  }

  private drain(all: boolean): void {
    for (;;) {
      const parts = this.pending.get(this.next);
      const ready = [...this.live].every((i) => (this.latest.get(i) ?? 0) >= this.next);
      if (!parts) {
        if (all && [...this.pending.keys()].some((k) => k > this.next)) {
          this.next += 1;
          continue;
        }
        return;
      }
      if (!all && !ready) return;
      this.pending.delete(this.next);
      const h = new LatencyHistogram();
      for (const p of parts) h.merge(p.hist);
      this.emit(mergeSecond(this.next, parts), h.toJSON());
      this.next += 1;
    }
  }
}

/**
 * A run's live seconds over its workers `indexes`: the merger the engine feeds, and `onSecond` to
 * add listeners, each told every merged second (a listener's failure does not stop the load).
 */
export function liveSeconds(indexes: readonly number[]): {
  readonly merger: SecondMerger;
  readonly onSecond: (listener: SecondListener) => void;
} {
  const listeners: SecondListener[] = [];
  const merger = new SecondMerger(indexes, (s, h) => {
    for (const l of listeners) {
      try {
        l(s, h);
      } catch {
        // A listener's failure must not stop the load.
      }
    }
  });
  return { merger, onSecond: (l) => listeners.push(l) };
}
