import type { ResultUnit } from "../../../tiers/schema/contract.js";
import type {
  AdapterConfig,
  InProcessAdapter,
  Params,
  ParseOutcome,
  RawOutput,
  RunContext,
} from "./adapter.js";
import { AUTOCANNON_VERSION, startHttpLoad } from "./http-load-run.js";
import { isRecord, numberAt, parseJson, putNumbers, type Metrics } from "./output.js";

/**
 * http-load: HTTP load with autocannon in process (HttpLoadContract). Target RPS (`rps`, 0 =
 * unthrottled), connections, duration; the target is `url`, or the environment's SUT plus `path`.
 * The raw output is the run's `LoadReport` as JSON: autocannon's result plus the adapter's own
 * latency percentiles and per-second figures.
 */

const UNITS: Record<string, ResultUnit> = {
  rps: "req/sec",
  requests: "count",
  latency_p50: "ms",
  latency_p90: "ms",
  latency_p95: "ms",
  latency_p99: "ms",
  latency_max: "ms",
  latency_mean: "ms",
  errors: "count",
  non_2xx: "count",
  timeouts: "count",
  error_rate: "ratio",
  throughput: "bytes/sec",
  duration: "s",
  workers: "count",
};

const METHODS = ["GET", "POST", "PUT"] as const;

function targetUrl(params: Params, ctx: RunContext): string {
  if (typeof params.url === "string") return params.url;
  if (ctx.sutUrl === undefined)
    throw new Error("the test has no url and the environment has no SUT to aim at");
  const path = typeof params.path === "string" ? params.path : "/";
  return new URL(path, ctx.sutUrl).toString();
}

/**
 * Reads a `LoadReport` (see http-load-run.ts): the counts from `totals` (a merged run of load
 * workers, or any run of this version) or from autocannon's own result (in-process runs recorded
 * before `totals` existed); the percentiles from the report's histogram summary.
 */
export function parseHttpLoad(raw: RawOutput): ParseOutcome {
  const read = parseJson(raw.stdout);
  if (!read.ok) return read;
  const report = read.value;
  if (!isRecord(report) || (!isRecord(report.totals) && !isRecord(report.autocannon)))
    return { ok: false, problem: "output has no autocannon result" };
  const merged = isRecord(report.totals);
  const at = (totals: string, autocannon: string): number | undefined =>
    merged ? numberAt(report, `totals.${totals}`) : numberAt(report, `autocannon.${autocannon}`);
  const requests = at("requests", "requests.total");
  const duration = at("duration_s", "duration");
  const errors = at("errors", "errors");
  const timeouts = at("timeouts", "timeouts");
  const non2xx = at("non_2xx", "non2xx");
  const bytes = at("bytes", "throughput.total");
  const rate = merged ? numberAt(report, "totals.rps") : undefined;
  for (const [name, v] of Object.entries({ requests, duration, errors, timeouts, non2xx })) {
    if (v === undefined || v < 0)
      return {
        ok: false,
        problem: `${merged ? "load totals have" : "autocannon result has"} no valid ${name}`,
      };
  }
  const workers = Array.isArray(report.workers) ? report.workers.filter(isRecord) : [];
  const problems = workers
    .map((w) => (typeof w.problem === "string" ? `load worker ${String(w.index)}: ${w.problem}` : undefined))
    .filter((p): p is string => p !== undefined);
  const metrics: Metrics = {};
  putNumbers(metrics, {
    requests: requests!,
    duration: duration!,
    errors: errors!,
    timeouts: timeouts!,
    non_2xx: non2xx!,
    rps: rate !== undefined && rate >= 0 ? rate : duration! > 0 ? requests! / duration! : 0,
    workers: workers.length > 0 ? workers.length : undefined,
    throughput: bytes !== undefined && duration! > 0 ? bytes / duration! : undefined,
  });
  const attempts = requests! + errors!;
  if (attempts > 0) metrics.error_rate = (errors! + non2xx!) / attempts;
  if (requests! > 0) {
    const latency = report.latency_ms;
    if (!isRecord(latency)) return { ok: false, problem: "output has responses but no latency summary" };
    putNumbers(metrics, {
      latency_p50: numberAt(latency, "p50"),
      latency_p90: numberAt(latency, "p90"),
      latency_p95: numberAt(latency, "p95"),
      latency_p99: numberAt(latency, "p99"),
      latency_max: numberAt(latency, "max"),
      latency_mean: numberAt(latency, "mean"),
    });
    // A worker that crashed or wrote malformed output fails the run; what it reported is kept.
    return problems.length > 0
      ? { ok: true, metrics, toolError: problems.join("; ") }
      : { ok: true, metrics };
  }
  const toolError =
    errors! > 0
      ? `no responses: ${errors!} connection errors (${timeouts!} timeouts)`
      : "no responses and no errors: no request completed";
  return { ok: true, metrics, toolError: [toolError, ...problems].join("; ") };
}

export function createHttpLoadAdapter(_config: AdapterConfig): InProcessAdapter {
  return {
    kind: "in-process",
    tool: "http-load",
    version: AUTOCANNON_VERSION,
    units: UNITS,
    checkParameters(params) {
      const problems: string[] = [];
      if (typeof params.url === "string" && !URL.canParse(params.url))
        problems.push(`url: not a valid URL (got ${JSON.stringify(params.url)})`);
      if (params.method !== undefined && !METHODS.includes(params.method as (typeof METHODS)[number]))
        problems.push(`method: expected one of ${METHODS.join(", ")}`);
      return problems;
    },
    async execute(params, ctx, signal) {
      let url: string;
      try {
        url = targetUrl(params, ctx);
      } catch (error) {
        return { stdout: "", stderr: (error as Error).message, exitCode: 2, files: {} };
      }
      let run;
      try {
        run = (ctx.load ?? startHttpLoad)({
          url,
          method: (params.method as (typeof METHODS)[number] | undefined) ?? "GET",
          connections: Number(params.connections ?? 10),
          rps: Number(params.rps ?? 0),
          durationS: Number(params.duration ?? 10),
          timeoutS: Number(params.timeout ?? 10),
        });
      } catch (error) {
        return { stdout: "", stderr: `autocannon: ${(error as Error).message}`, exitCode: 1, files: {} };
      }
      if (ctx.onLoadSecond) run.onSecond(ctx.onLoadSecond);
      const onAbort = (): void => run.stop();
      if (signal.aborted) run.stop();
      signal.addEventListener("abort", onAbort, { once: true });
      try {
        const report = await run.done;
        return { stdout: JSON.stringify(report), stderr: "", exitCode: 0, files: {} };
      } catch (error) {
        return { stdout: "", stderr: `autocannon: ${(error as Error).message}`, exitCode: 1, files: {} };
      } finally {
        signal.removeEventListener("abort", onAbort);
      }
    },
    parse: parseHttpLoad,
  };
}
