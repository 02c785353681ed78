import { z } from "zod";
import { LatencyHistogram } from "../adapters/latency-histogram.js";

/**
 * What a load worker (`orchestrator load-worker`) writes on stdout, one JSON object a line:
 * `ready` once it can start, a `second` at the end of every second (its counts, that second's
 * histogram and its own event-loop delay), and one `report` at the end (its totals and its whole histogram). The local engine
 * reads these from the worker's pipe, the cluster engine from the worker pod's log; both check
 * every line with these schemas, since a worker's output is not trusted.
 */

const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const ms = z.number().nonnegative().max(1e12);

export const SerializedHistogramSchema = z.strictObject({
  buckets: z
    .array(z.tuple([z.number().int().nonnegative(), count]).readonly())
    .max(10_000)
    .readonly(),
  count,
  sum: z.number().nonnegative(),
  min: ms.nullable(),
  max: ms.nullable(),
});

export const WorkerReady = z.strictObject({
  kind: z.literal("ready"),
  index: count,
  pid: count,
});

/**
 * A worker's event-loop delay over one second (`perf_hooks.monitorEventLoopDelay`), in ms: the
 * load generator's own lag, which inflates every latency it measures. The orchestrator exports it
 * per worker on /metrics.
 */
export const EventLoopDelay = z.strictObject({ mean_ms: ms, p99_ms: ms, max_ms: ms });
export type EventLoopDelay = z.infer<typeof EventLoopDelay>;

export const WorkerSecond = z.strictObject({
  kind: z.literal("second"),
  index: count,
  second: z.number().int().positive(),
  ts_ms: count,
  interval_ms: count,
  responses: count,
  errors: count,
  timeouts: count,
  non_2xx: count,
  histogram: SerializedHistogramSchema,
  /** Absent when the loop was not sampled in that second (or from a worker that does not sample). */
  event_loop: EventLoopDelay.optional(),
});
export type WorkerSecond = z.infer<typeof WorkerSecond>;

export const WorkerReport = z.strictObject({
  kind: z.literal("report"),
  index: count,
  generator: z.strictObject({ name: z.literal("autocannon"), version: z.string().max(64) }),
  requests: count,
  errors: count,
  timeouts: count,
  non_2xx: count,
  bytes: count,
  duration_s: z.number().nonnegative().max(1e7),
  stopped_early: z.boolean(),
  histogram: SerializedHistogramSchema,
  /** How long after the common start (`--start-at`) this worker began: it ran that much less. */
  late_ms: count.optional(),
});
export type WorkerReport = z.infer<typeof WorkerReport>;

export const WorkerLine = z.discriminatedUnion("kind", [WorkerReady, WorkerSecond, WorkerReport]);
export type WorkerLine = z.infer<typeof WorkerLine>;

/** Longest line a worker may write (a second's histogram is at most a few thousand buckets). */
export const MAX_LINE_BYTES = 1024 * 1024;

/**
 * Reads one line of a worker's output: the line, or why it is malformed (not JSON, wrong shape,
 * or a histogram whose buckets do not add up).
 */
export function readWorkerLine(
  line: string,
): { ok: true; value: WorkerLine; histogram?: LatencyHistogram } | { ok: false; problem: string } {
  if (line.length > MAX_LINE_BYTES)
    return { ok: false, problem: `a line of ${line.length} bytes (over 1 MiB)` };
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return { ok: false, problem: `not JSON: ${JSON.stringify(line.slice(0, 80))}` };
  }
  const parsed = WorkerLine.safeParse(json);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    return { ok: false, problem: `${i.path.join(".") || "(line)"}: ${i.message}` };
  }
  if (parsed.data.kind === "ready") return { ok: true, value: parsed.data };
  const h = LatencyHistogram.fromJSON(parsed.data.histogram);
  if (typeof h === "string") return { ok: false, problem: `histogram: ${h}` };
  return { ok: true, value: parsed.data, histogram: h };
}
