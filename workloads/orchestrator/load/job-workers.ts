import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { BatchV1Api, CoreV1Api, type V1Pod } from "@kubernetes/client-node";
import {
  creatorLabelValue,
  LOAD_JOB_CREATOR_LABEL,
  LOAD_JOB_LABEL,
  loadJobParallelism,
  renderLoadJob,
} from "../../../tiers/infra/load-job.js";
import type { HttpLoadOptions, HttpLoadRun, LoadReport } from "../adapters/http-load-run.js";
import type { LatencyHistogram } from "../adapters/latency-histogram.js";
import { describeKubeError, type KubeContext } from "../kube/context.js";
import { readPodLog, type PodLogRead } from "../kube/pod-log.js";
import type { LoadEngine } from "./engine.js";
import { tell, type WorkerLoopSink } from "./local-workers.js";
import { mergeOutcomes, liveSeconds, splitLoad, type WorkerOutcome } from "./merge.js";
import { MAX_LINE_BYTES, readWorkerLine, type WorkerReport, type WorkerSecond } from "./protocol.js";

/** The annotation (and, from Kubernetes 1.28, label) holding an Indexed Job pod's completion index. */
export const COMPLETION_INDEX = "batch.kubernetes.io/job-completion-index";
const CONTAINER = "load-worker";

export interface JobWorkersOptions {
  readonly kube: KubeContext;
  /** The orchestrator's own image: a worker is its `load-worker` command. */
  readonly image: string;
  /** Planned rps per worker pod: the Job has `ceil(rps / capacity)` pods (tiers/infra/load-job.ts). */
  readonly workerCapacityRps: number;
  /** At most this many pods (what the environment's quota leaves for load workers). */
  readonly maxWorkers: number;
  readonly serviceAccountName?: string;
  /** Seconds from creating the Job to the common start of its pods' load. @default 30 */
  readonly startAllowanceS?: number;
  /** How long after the common start plus the run's length a pod without its report is given up. @default 90000 */
  readonly giveUpGraceMs?: number;
  /** How often the pods are listed. @default 1000 */
  readonly pollMs?: number;
  /** Who creates the Jobs (LOAD_JOB_CREATOR_LABEL). @default this host's name: the pod's, in a cluster */
  readonly creator?: string;
  /** Labels on the Job and its pods besides the engine's own (environment, cycle). */
  readonly labels?: Readonly<Record<string, string>>;
  /** Told each pod's event-loop delay of every second it reports, and when it has ended (/metrics). */
  readonly eventLoop?: WorkerLoopSink;
  /** What the engine did (job created, deleted, a delete that failed), for the orchestrator's log. */
  readonly onEvent?: (kind: string, detail: Record<string, unknown>) => void;
}

/** Log reads in a row that may fail (not started yet, a broken stream) before the pod is given up. */
const MAX_LOG_FAILURES = 10;

/** How long a deleted Job's pods have to write their reports (their termination grace). */
const STOP_GRACE_MS = 30_000;

interface WorkerState {
  readonly index: number;
  pod: string | undefined;
  /** Lines read of the current log stream; a reconnect reads the log again from its start. */
  streaming: boolean;
  /** The pod reached Succeeded or Failed: its log is complete once the stream that follows ends. */
  terminal: { exitCode: number | null; reason: string } | undefined;
  finalRead: boolean;
  ended: boolean;
  ready: boolean;
  lastSecond: number;
  readonly seconds: (WorkerSecond & { hist: LatencyHistogram })[];
  report: (WorkerReport & { hist: LatencyHistogram }) | undefined;
  problem: string | undefined;
  lines: number;
  /** Log reads in a row that did not reach the log's end. */
  logFailures: number;
  /** The last lines of the log that were not protocol (stderr). */
  readonly stderr: string[];
}

function podIndex(pod: V1Pod): number | undefined {
  const text = pod.metadata?.annotations?.[COMPLETION_INDEX] ?? pod.metadata?.labels?.[COMPLETION_INDEX];
  const n = Number(text);
  return text !== undefined && Number.isInteger(n) && n >= 0 ? n : undefined;
}

function terminalOf(pod: V1Pod): WorkerState["terminal"] {
  const phase = pod.status?.phase;
  if (phase !== "Succeeded" && phase !== "Failed") return undefined;
  const t = pod.status?.containerStatuses?.find((c) => c.name === CONTAINER)?.state?.terminated;
  return {
    exitCode: t?.exitCode ?? null,
    reason: [phase, t?.reason, pod.status?.reason, pod.status?.message].filter(Boolean).join(": "),
  };
}

/** A DNS label for the Job: `load-<base36 time>-<random>`. */
function jobName(): string {
  return `load-${Date.now().toString(36)}-${randomUUID().slice(0, 6)}`;
}

/**
 * Runs the load as a Kubernetes Indexed Job in the environment's namespace (the cluster target):
 * `ceil(rps / capacity)` pods, at most `maxWorkers`, each the orchestrator image's `load-worker`
 * with the run's whole rate and connections and `--workers N`, so pod i takes `splitLoad`'s share i.
 * The engine lists the Job's pods, follows each one's log (pods/log: the worker's protocol lines,
 * checked as strictly as a local worker's pipe) and merges their seconds and reports exactly as
 * the local engine does. A log stream that breaks is read again from the start, its lines already
 * taken skipped, so nothing is lost or counted twice. The Job is deleted when the load is done,
 * when `stop` is called (its pods get SIGTERM and write their reports first) and when the Job
 * cannot start; a pod that fails, never starts, or writes a malformed line is named in the report.
 */
export function startJobWorkers(options: HttpLoadOptions, job: JobWorkersOptions): HttpLoadRun {
  const rps = Math.max(0, Math.round(options.rps ?? 0));
  const wanted =
    rps > 0 ? loadJobParallelism(rps, job.workerCapacityRps, job.maxWorkers).parallelism : job.maxWorkers;
  const shares = splitLoad(options, wanted);
  const namespace = job.kube.namespace;
  const name = jobName();
  const pollMs = job.pollMs ?? 1000;
  const allowanceS = job.startAllowanceS ?? 30;
  const batch = job.kube.config.makeApiClient(BatchV1Api);
  const core = job.kube.config.makeApiClient(CoreV1Api);
  const event = (kind: string, detail: Record<string, unknown>): void => {
    try {
      job.onEvent?.(kind, { job: name, namespace, ...detail });
    } catch {
      // the log's failure is not the load's
    }
  };

  const { merger, onSecond } = liveSeconds(shares.map((s) => s.index));
  const workers: WorkerState[] = shares.map((s) => ({
    index: s.index,
    pod: undefined,
    streaming: false,
    terminal: undefined,
    finalRead: false,
    ended: false,
    ready: false,
    lastSecond: 0,
    seconds: [],
    report: undefined,
    problem: undefined,
    lines: 0,
    logFailures: 0,
    stderr: [],
  }));
  const streams = new Set<PodLogRead>();
  let stoppedEarly = false;
  let deleted: Promise<void> | undefined;
  let wake: () => void = () => undefined;

  const end = (w: WorkerState, problem?: string): void => {
    if (w.ended) return;
    if (problem !== undefined && w.problem === undefined) w.problem = problem;
    w.ended = true;
    if (w.pod !== undefined) tell(job.eventLoop, (sink) => sink.ended(w.pod!));
    merger.ended(w.index);
    wake();
  };

  const takeLine = (w: WorkerState, line: string): void => {
    w.lines += 1;
    if (w.ended || line.trim() === "") return;
    // A pod's log holds its stderr too (Node's warnings, an error's message): kept for the
    // messages, not read as protocol. Every line that starts as JSON must be a valid one.
    if (!line.startsWith("{")) {
      w.stderr.push(line.slice(0, 300));
      if (w.stderr.length > 3) w.stderr.shift();
      return;
    }
    const read = readWorkerLine(line);
    if (!read.ok || read.value.index !== w.index) {
      end(
        w,
        `pod ${w.pod} wrote a malformed line ${w.lines}: ${read.ok ? `index ${read.value.index}, expected ${w.index}` : read.problem}; what it sent before is kept`,
      );
      return;
    }
    const v = read.value;
    if (v.kind === "ready") w.ready = true;
    else if (v.kind === "second") {
      // A log read again after a broken stream repeats what was taken: skip it.
      if (v.second <= w.lastSecond || w.report) return;
      w.lastSecond = v.second;
      if (v.event_loop && w.pod !== undefined)
        tell(job.eventLoop, (sink) => sink.second(w.pod!, v.event_loop!));
      const part = { ...v, hist: read.histogram! };
      w.seconds.push(part);
      merger.add(part);
    } else if (!w.report) {
      w.report = { ...v, hist: read.histogram! };
      const late = v.late_ms !== undefined ? v.late_ms / 1000 : 0;
      if (late >= 1)
        w.problem = `pod ${w.pod} started ${late.toFixed(1)} s after the common start, so it ran ${Math.max(0, options.durationS - late).toFixed(1)} of ${options.durationS} s`;
      end(w);
    }
  };

  /** Reads one pod's log (following it unless `final`) until it ends; lines are taken as they come. */
  const follow = async (w: WorkerState, pod: string, final: boolean): Promise<void> => {
    w.streaming = true;
    // The log is read from its start each time: its stderr tail too.
    w.stderr.length = 0;
    let rest = "";
    const read = readPodLog(job.kube, pod, CONTAINER, !final, (text) => {
      if (w.ended) return;
      rest += text;
      let nl: number;
      while ((nl = rest.indexOf("\n")) >= 0) {
        takeLine(w, rest.slice(0, nl));
        rest = rest.slice(nl + 1);
      }
      if (rest.length > MAX_LINE_BYTES) {
        end(w, `pod ${pod} wrote a line over 1 MiB; what it sent before is kept`);
        rest = "";
      }
    });
    streams.add(read);
    const result = await read.done;
    streams.delete(read);
    // A last line without its newline counts only when the log was read to its end.
    if (result.ok && rest.trim() !== "") takeLine(w, rest);
    // Not running yet (400), gone (404), broken: the next poll decides what that means.
    if (!result.ok) {
      event("load.job.log_interrupted", { pod, error: result.line });
      w.logFailures += 1;
      if (w.logFailures >= MAX_LOG_FAILURES)
        end(
          w,
          `pod ${pod}'s log could not be read (${result.line}, ${w.logFailures} times in a row); ${w.seconds.length} seconds reported and kept`,
        );
    } else w.logFailures = 0;
    w.streaming = false;
    if (final && result.ok) w.finalRead = true;
    wake();
  };

  let created = false;
  const deleteJob = (why: string): Promise<void> => {
    if (!created) return Promise.resolve();
    deleted ??= batch.deleteNamespacedJob({ name, namespace, propagationPolicy: "Background" }).then(
      () => event("load.job.deleted", { why }),
      (error: unknown) => {
        const d = describeKubeError(error);
        if (d.status === 404) return;
        // The Job's TTL and activeDeadlineSeconds end it anyway; the next start sweeps it.
        event("load.job.delete_failed", { why, error: d.line });
      },
    );
    return deleted;
  };

  const run = async (): Promise<LoadReport> => {
    const startAtMs = Date.now() + allowanceS * 1000;
    const body = renderLoadJob({
      namespace,
      name,
      image: job.image,
      parallelism: shares.length,
      ...(job.serviceAccountName ? { serviceAccountName: job.serviceAccountName } : {}),
      url: options.url,
      ...(options.method ? { method: options.method } : {}),
      rps,
      connections: options.connections,
      durationS: options.durationS,
      ...(options.timeoutS !== undefined ? { timeoutS: options.timeoutS } : {}),
      startAtMs,
      startAllowanceS: allowanceS,
      labels: { ...job.labels, [LOAD_JOB_CREATOR_LABEL]: creatorLabelValue(job.creator ?? hostname()) },
    });
    try {
      await batch.createNamespacedJob({ namespace, body });
      created = true;
      event("load.job.created", { pods: shares.length, rps, connections: options.connections });
      // Stopped while the Job was being created: it goes at once.
      if (stoppedEarly) void deleteJob("stopped");
    } catch (error) {
      const line = describeKubeError(error).line;
      for (const w of workers) end(w, `the load Job ${namespace}/${name} could not be created: ${line}`);
      return finish();
    }
    // Pods not done by the start plus the run's length plus a grace are given up on.
    const giveUpAt = startAtMs + options.durationS * 1000 + (job.giveUpGraceMs ?? 60_000 + STOP_GRACE_MS);
    let stopDeadline: number | undefined;
    let listError: string | undefined;
    while (workers.some((w) => !w.ended)) {
      if (stoppedEarly) stopDeadline ??= Date.now() + STOP_GRACE_MS;
      const now = Date.now();
      if (now > (stopDeadline ?? giveUpAt)) {
        for (const w of workers)
          end(
            w,
            w.pod === undefined
              ? `no pod of the Job started${listError !== undefined ? ` (listing its pods: ${listError})` : ""}`
              : `pod ${w.pod} sent no report in time (${w.seconds.length} seconds reported and kept)`,
          );
        break;
      }
      let pods: V1Pod[] = [];
      try {
        const list = await core.listNamespacedPod({ namespace, labelSelector: `${LOAD_JOB_LABEL}=${name}` });
        pods = list.items;
        listError = undefined;
      } catch (error) {
        listError = describeKubeError(error).line;
        event("load.job.list_failed", { error: listError });
      }
      for (const pod of pods) {
        const index = podIndex(pod);
        const w = index !== undefined ? workers[index] : undefined;
        const podName = pod.metadata?.name;
        if (!w || !podName || w.ended) continue;
        // One pod per index: with backoffLimit 0 the Job makes no second one; ignore any other.
        if (w.pod !== undefined && w.pod !== podName) continue;
        w.pod = podName;
        const phase = pod.status?.phase;
        const terminal = terminalOf(pod);
        if (terminal) w.terminal = terminal;
        if (w.streaming) continue;
        if (phase === "Running" && !w.terminal) void follow(w, podName, false);
        else if (w.terminal && !w.finalRead) void follow(w, podName, true);
        else if (w.terminal && w.finalRead) {
          const how = w.terminal.exitCode !== null ? `exited with code ${w.terminal.exitCode}` : "ended";
          const tail = w.stderr.length > 0 ? ` (log: ${w.stderr.slice(-2).join(" | ")})` : "";
          end(
            w,
            `pod ${podName} ${how} (${w.terminal.reason}) ${w.report ? "after" : "before"} its report, ${w.seconds.length} seconds reported and kept${tail}`,
          );
        }
      }
      // A pod whose object went (deleted with the Job, evicted) after its log was read to the end.
      for (const w of workers)
        if (!w.ended && w.pod !== undefined && !w.streaming && !pods.some((p) => p.metadata?.name === w.pod))
          end(
            w,
            `pod ${w.pod} is gone ${w.report ? "after" : "before"} its report, ${w.seconds.length} seconds reported and kept`,
          );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = () => undefined;
    }
    return finish();
  };

  const finish = async (): Promise<LoadReport> => {
    for (const c of streams) c.abort();
    await deleteJob(stoppedEarly ? "stopped" : "done");
    merger.flush();
    const outcomes: WorkerOutcome[] = workers.map((w) => ({
      share: shares[w.index]!,
      ...(w.pod !== undefined ? { pod: w.pod } : {}),
      seconds: w.seconds,
      ...(w.report ? { report: w.report } : {}),
      ...(w.problem !== undefined ? { problem: w.problem } : {}),
    }));
    return mergeOutcomes(options, outcomes, stoppedEarly);
  };

  const done = run();
  return {
    onSecond,
    stop: () => {
      if (stoppedEarly) return;
      stoppedEarly = true;
      // Deleting the Job terminates its pods: each one's worker ends its load and writes its report.
      void deleteJob("stopped");
      wake();
    },
    done,
  };
}

/** The cluster target's engine: each run of load an Indexed Job (`load_job_image` set). */
export function jobWorkersEngine(job: JobWorkersOptions): LoadEngine {
  return (options) => startJobWorkers(options, job);
}

/**
 * Load Jobs a previous run of this orchestrator left (it was killed before it could delete them):
 * deleted at start, with their pods, so no stale load reaches the SUT. Only its own — created from
 * this host (a restarted container keeps its pod's name) — and those whose creator pod no longer
 * exists in the namespace; a Job another live pod created (the Deployment's while a workflow step
 * starts, or the other way round) is left to it. Returns the names deleted.
 */
export async function sweepLoadJobs(kube: KubeContext, creator: string = hostname()): Promise<string[]> {
  const batch = kube.config.makeApiClient(BatchV1Api);
  const core = kube.config.makeApiClient(CoreV1Api);
  const me = creatorLabelValue(creator);
  const list = await batch.listNamespacedJob({ namespace: kube.namespace, labelSelector: LOAD_JOB_LABEL });
  const names: string[] = [];
  for (const j of list.items) {
    const n = j.metadata?.name;
    if (!n) continue;
    const by = j.metadata?.labels?.[LOAD_JOB_CREATOR_LABEL];
    if (by !== undefined && by !== me) {
      let alive = true;
      try {
        await core.readNamespacedPod({ name: by, namespace: kube.namespace });
      } catch (error) {
        if (describeKubeError(error).status !== 404) throw error;
        alive = false;
      }
      if (alive) continue;
    }
    try {
      await batch.deleteNamespacedJob({
        name: n,
        namespace: kube.namespace,
        propagationPolicy: "Background",
      });
      names.push(n);
    } catch (error) {
      if (describeKubeError(error).status !== 404) throw error;
    }
  }
  return names;
}
