import { createWriteStream } from "node:fs";
import { once } from "node:events";
import { monitorEventLoopDelay, type IntervalHistogram } from "node:perf_hooks";
import { AUTOCANNON_VERSION, startHttpLoad, type HttpLoadOptions } from "../adapters/http-load-run.js";
import { LatencyHistogram } from "../adapters/latency-histogram.js";
import type { EventLoopDelay, WorkerLine } from "./protocol.js";

/** The loop's delay since the last call, and the histogram started again; undefined when unsampled. */
function delaySince(loop: IntervalHistogram): EventLoopDelay | undefined {
  const sampled = loop.count > 0;
  const delay = sampled
    ? { mean_ms: loop.mean / 1e6, p99_ms: loop.percentile(99) / 1e6, max_ms: loop.max / 1e6 }
    : undefined;
  loop.reset();
  return delay;
}

export interface WorkerOptions extends Omit<HttpLoadOptions, "onLatency"> {
  /** This worker's index among the run's workers (a Job's completion index on the cluster). */
  readonly index: number;
  /** Wait for SIGUSR2 after `ready` (the local engine starts all its workers at once). */
  readonly waitForStart?: boolean;
  /** Test mode: every latency (ms), one a line, into this file. */
  readonly rawLatenciesFile?: string;
  /**
   * Start the load at this instant (epoch ms; a load Job's pods, which no one can signal). Up
   * earlier, the worker says `ready` and waits; up later, it runs only what is left of the
   * duration, numbers its seconds from where the others are, and reports how late it was.
   */
  readonly startAtMs?: number;
}

/** Waits until `at` (epoch ms) or until `stop` is called; true when stopped. */
async function waitUntil(at: number, onStop: (stop: () => void) => void): Promise<boolean> {
  let stopped = false;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, Math.max(0, at - Date.now()));
    onStop(() => {
      stopped = true;
      clearTimeout(timer);
      resolve();
    });
  });
  return stopped;
}

/**
 * The body of `orchestrator load-worker`: one share of a phase's load, run with autocannon in this
 * process, reported as protocol lines (protocol.ts) through `write`: `ready`, a `second` every
 * second with that second's histogram and this process's event-loop delay over it (sampled every
 * 10 ms), and the `report` with the whole histogram. SIGTERM or SIGINT end the load early and the
 * report still comes out, so an engine that stops its workers loses nothing they measured.
 * Resolves with the exit code.
 */
export async function runLoadWorker(
  options: WorkerOptions,
  write: (line: WorkerLine) => void,
): Promise<number> {
  const { index } = options;
  const raw = options.rawLatenciesFile ? createWriteStream(options.rawLatenciesFile) : undefined;
  let stopRequested = false;
  let stop: (() => void) | undefined;
  const onStop = (): void => {
    stopRequested = true;
    stop?.();
  };
  process.on("SIGTERM", onStop);
  process.on("SIGINT", onStop);
  // A local worker whose orchestrator died (SIGKILL, no chance to stop it) stops by itself.
  const parent = process.ppid;
  const watch = options.waitForStart
    ? setInterval(() => {
        if (process.ppid !== parent) onStop();
      }, 500)
    : undefined;
  watch?.unref();
  const loop = monitorEventLoopDelay({ resolution: 10 });
  const report = (r: Omit<Extract<WorkerLine, { kind: "report" }>, "kind" | "index" | "generator">): void =>
    write({ kind: "report", index, generator: { name: "autocannon", version: AUTOCANNON_VERSION }, ...r });
  const emptyReport = (): void =>
    report({
      requests: 0,
      errors: 0,
      timeouts: 0,
      non_2xx: 0,
      bytes: 0,
      duration_s: 0,
      stopped_early: true,
      histogram: new LatencyHistogram().toJSON(),
    });
  let durationS = options.durationS;
  let secondOffset = 0;
  let lateMs = 0;
  try {
    if (options.startAtMs !== undefined) {
      write({ kind: "ready", index, pid: process.pid });
      if (stopRequested || (await waitUntil(options.startAtMs, (s) => (stop = s)))) {
        emptyReport();
        return 0;
      }
      stop = undefined;
      lateMs = Math.max(0, Date.now() - options.startAtMs);
      if (lateMs >= 1000) {
        secondOffset = Math.floor(lateMs / 1000);
        durationS = options.durationS - lateMs / 1000;
        if (durationS < 0.1) {
          emptyReport();
          return 0;
        }
      }
    } else if (options.waitForStart) {
      const started = once(process, "SIGUSR2");
      write({ kind: "ready", index, pid: process.pid });
      // A signal listener does not keep the process alive: this timer does, until the start.
      const alive = setInterval(() => undefined, 60_000);
      await Promise.race([started, new Promise<void>((r) => (stop = r))]).finally(() => clearInterval(alive));
      stop = undefined;
      if (stopRequested) {
        emptyReport();
        return 0;
      }
    } else {
      write({ kind: "ready", index, pid: process.pid });
    }
    loop.enable();
    const run = startHttpLoad({
      url: options.url,
      connections: options.connections,
      durationS,
      ...(options.method ? { method: options.method } : {}),
      ...(options.rps !== undefined ? { rps: options.rps } : {}),
      ...(options.timeoutS !== undefined ? { timeoutS: options.timeoutS } : {}),
      ...(options.body !== undefined ? { body: options.body } : {}),
      ...(raw ? { onLatency: (ms: number) => raw.write(`${ms}\n`) } : {}),
    });
    stop = () => run.stop();
    if (stopRequested) run.stop();
    run.onSecond((s, histogram) => {
      const delay = delaySince(loop);
      write({
        kind: "second",
        index,
        second: s.second + secondOffset,
        ts_ms: s.ts_ms,
        interval_ms: s.interval_ms,
        responses: s.responses,
        errors: s.errors,
        timeouts: s.timeouts,
        non_2xx: s.non_2xx,
        histogram,
        ...(delay ? { event_loop: delay } : {}),
      });
    });
    const done = await run.done;
    report({
      requests: done.totals.requests,
      errors: done.totals.errors,
      timeouts: done.totals.timeouts,
      non_2xx: done.totals.non_2xx,
      bytes: done.totals.bytes,
      duration_s: done.totals.duration_s,
      stopped_early: done.stopped_early,
      histogram: done.histogram,
      ...(lateMs >= 1000 ? { late_ms: Math.round(lateMs) } : {}),
    });
    return 0;
  } finally {
    loop.disable();
    if (watch) clearInterval(watch);
    process.off("SIGTERM", onStop);
    process.off("SIGINT", onStop);
    if (raw) {
      raw.end();
      await once(raw, "close").catch(() => undefined);
    }
  }
}
