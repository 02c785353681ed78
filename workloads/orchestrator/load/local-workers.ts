import { fileURLToPath } from "node:url";
import type { HttpLoadOptions, HttpLoadRun, LoadReport } from "../adapters/http-load-run.js";
import type { LatencyHistogram } from "../adapters/latency-histogram.js";
import { startRunning, type Running } from "../process/spawn.js";
import type { LoadEngine } from "./engine.js";
import { mergeOutcomes, liveSeconds, splitLoad, type WorkerOutcome, type WorkerShare } from "./merge.js";
import { readWorkerLine, type EventLoopDelay, type WorkerReport, type WorkerSecond } from "./protocol.js";

/**
 * Where each worker's event-loop delay goes (the orchestrator's /metrics), by the worker's pid (a
 * local worker) or its pod's name (a load Job's worker).
 */
export interface WorkerLoopSink {
  /** Worker `pid`'s event-loop delay over its latest second. */
  second(pid: number | string, delay: EventLoopDelay): void;
  /** Worker `pid` has exited: its figures are no longer current. */
  ended(pid: number | string): void;
}

/** The orchestrator's own entry: a worker is `node bin/orchestrator.js load-worker …`. */
const ORCHESTRATOR_BIN = fileURLToPath(new URL("../../../bin/orchestrator.js", import.meta.url));

export interface LocalWorkersOptions {
  /** At most this many worker processes (fewer when the run has fewer connections or rps). */
  readonly workers: number;
  /** How long the workers may take to start before the run gives up on them. @default 60000 */
  readonly readyTimeoutMs?: number;
  /** Test mode: worker i writes every latency to `${rawLatenciesPrefix}.${i}`. */
  readonly rawLatenciesPrefix?: string;
  /** The program to run as a worker (tests start a deliberately broken one). @default this orchestrator */
  readonly command?: { readonly file: string; readonly args: readonly string[] };
  /** Called with each worker's pid once it is spawned (teardown tests). */
  readonly onSpawn?: (pid: number) => void;
  /** Told each worker's event-loop delay of every second it reports, and when it has exited. */
  readonly eventLoop?: WorkerLoopSink;
}

/** Tells the sink, if any; a sink's failure must not stop the load (shared by both engines). */
export function tell(sink: WorkerLoopSink | undefined, call: (sink: WorkerLoopSink) => void): void {
  if (!sink) return;
  try {
    call(sink);
  } catch {
    // what the sink does with it is its own affair
  }
}

/** How long a stopped worker has to write its report before it is killed. */
const STOP_GRACE_MS = 5000;

function workerArgs(options: HttpLoadOptions, share: WorkerShare, local: LocalWorkersOptions): string[] {
  return [
    ...(local.command?.args ?? [ORCHESTRATOR_BIN]),
    "load-worker",
    "--url",
    options.url,
    "--method",
    options.method ?? "GET",
    "--connections",
    String(share.connections),
    "--rps",
    String(share.rps),
    "--duration",
    String(options.durationS),
    "--timeout",
    String(options.timeoutS ?? 10),
    "--index",
    String(share.index),
    "--wait-for-start",
    ...(local.rawLatenciesPrefix !== undefined
      ? ["--raw-latencies", `${local.rawLatenciesPrefix}.${share.index}`]
      : []),
  ];
}

/**
 * Runs the load in worker processes on this machine, so the orchestrator's event loop only reads
 * their lines: each worker gets its share (splitLoad), says `ready`, and all start together on
 * SIGUSR2. Their seconds are merged live (SecondMerger) and their reports into one LoadReport. A
 * worker that exits early, is killed, or writes a malformed line is named in the report with what
 * it did deliver kept; `stop` (and an abort of the orchestrator) sends every worker SIGTERM, on
 * which it ends its load and writes its report, then SIGKILL after a grace period. Each worker's
 * event-loop delay per second goes to `eventLoop` (the orchestrator's /metrics), by its pid.
 */
export function startLocalWorkers(options: HttpLoadOptions, local: LocalWorkersOptions): HttpLoadRun {
  const shares = splitLoad(options, local.workers);
  const { merger, onSecond } = liveSeconds(shares.map((s) => s.index));
  let stoppedEarly = false;
  const state = shares.map((share) => ({
    share,
    running: undefined as Running | undefined,
    ready: false,
    seconds: [] as (WorkerSecond & { hist: LatencyHistogram })[],
    report: undefined as (WorkerReport & { hist: LatencyHistogram }) | undefined,
    problem: undefined as string | undefined,
    stderr: [] as string[],
    lines: 0,
  }));
  let readyResolve: () => void = () => undefined;
  const allReady = new Promise<void>((r) => (readyResolve = r));
  const checkReady = (): void => {
    if (state.every((w) => w.ready || w.problem !== undefined)) readyResolve();
  };
  const file = local.command?.file ?? process.execPath;

  const exits = state.map(async (w) => {
    let running: Running;
    try {
      running = startRunning({ file, args: workerArgs(options, w.share, local) });
    } catch (error) {
      w.problem = `could not start: ${(error as Error).message}`;
      checkReady();
      merger.ended(w.share.index);
      return;
    }
    w.running = running;
    local.onSpawn?.(running.pid);
    running.onLine((line, stream) => {
      if (stream === "stderr") {
        w.stderr.push(line);
        if (w.stderr.length > 5) w.stderr.shift();
        return;
      }
      w.lines += 1;
      if (w.problem !== undefined || line.trim() === "") return;
      const read = readWorkerLine(line);
      if (!read.ok || read.value.index !== w.share.index) {
        w.problem = `wrote a malformed line ${w.lines}: ${read.ok ? `index ${read.value.index}, expected ${w.share.index}` : read.problem}; stopped, what it sent before is kept`;
        checkReady();
        merger.ended(w.share.index);
        void running.stop(STOP_GRACE_MS);
        return;
      }
      const v = read.value;
      if (v.kind === "ready") {
        w.ready = true;
        checkReady();
      } else if (v.kind === "second") {
        if (v.event_loop) tell(local.eventLoop, (sink) => sink.second(running.pid, v.event_loop!));
        const part = { ...v, hist: read.histogram! };
        w.seconds.push(part);
        merger.add(part);
      } else {
        w.report = { ...v, hist: read.histogram! };
      }
    });
    const exit = await running.exited;
    tell(local.eventLoop, (sink) => sink.ended(running.pid));
    if (w.problem === undefined && (!w.report || exit.exitCode !== 0)) {
      const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.exitCode}`;
      const tail = w.stderr.length > 0 ? ` (stderr: ${w.stderr.slice(-2).join(" | ").slice(0, 300)})` : "";
      w.problem = `${how} ${w.report ? "after" : "before"} its report, ${w.seconds.length} seconds reported and kept${tail}`;
    }
    checkReady();
    merger.ended(w.share.index);
  });

  const stopAll = (): Promise<unknown> =>
    Promise.all(state.map((w) => w.running?.stop(STOP_GRACE_MS) ?? Promise.resolve()));

  const readyTimer = setTimeout(() => {
    for (const w of state)
      if (!w.ready && w.problem === undefined)
        w.problem = `not ready within ${local.readyTimeoutMs ?? 60_000} ms`;
    readyResolve();
    void stopAll();
  }, local.readyTimeoutMs ?? 60_000);

  void allReady.then(() => {
    clearTimeout(readyTimer);
    if (stoppedEarly) return;
    for (const w of state) {
      if (!w.ready || w.problem !== undefined || !w.running) continue;
      try {
        process.kill(w.running.pid, "SIGUSR2");
      } catch {
        // it exited in the meantime; its exit is reported
      }
    }
  });

  const done: Promise<LoadReport> = Promise.all(exits).then(() => {
    clearTimeout(readyTimer);
    merger.flush();
    const outcomes: WorkerOutcome[] = state.map((w) => ({
      share: w.share,
      ...(w.running ? { pid: w.running.pid } : {}),
      seconds: w.seconds,
      ...(w.report ? { report: w.report } : {}),
      ...(w.problem !== undefined ? { problem: w.problem } : {}),
    }));
    return mergeOutcomes(options, outcomes, stoppedEarly);
  });

  return {
    onSecond,
    stop: () => {
      if (stoppedEarly) return;
      stoppedEarly = true;
      void stopAll();
    },
    done,
  };
}

/** The engine of `load_workers: N` (N ≥ 1). */
export function localWorkersEngine(
  workers: number,
  extra: Omit<LocalWorkersOptions, "workers"> = {},
): LoadEngine {
  return (options) => startLocalWorkers(options, { ...extra, workers });
}
