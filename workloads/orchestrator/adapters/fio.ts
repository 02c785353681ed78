import { mkdtemp, rm } from "node:fs/promises";
import { constants } from "node:os";
import { join } from "node:path";
import type { ResultUnit } from "../../../tiers/schema/contract.js";
import type { AdapterConfig, Params, ParseOutcome, ProcessAdapter, RawOutput } from "./adapter.js";
import { getPath, isRecord, numberAt, parseJsonAfterNotes, putNumbers, type Metrics } from "./output.js";
import { param } from "./params.js";

/**
 * fio (FioContract): a job from parameters (rw, bs, size, runtime, iodepth, numjobs, ioengine,
 * direct, rwmixread) or any job file, with `--output-format=json`. Per direction: IOPS, bandwidth
 * (bytes/s), completion-latency mean and percentiles (µs). Jobs that report an `error` count in
 * `errors` and fail the run. Several jobs without group reporting: IOPS and bandwidth are summed,
 * latency percentiles are the worst job's (percentiles cannot be added).
 */

const DIRECTIONS = ["read", "write"] as const;
const PERCENTILES = { p50: "50.000000", p90: "90.000000", p99: "99.000000", p999: "99.900000" } as const;

const UNITS: Record<string, ResultUnit> = { errors: "count" };
for (const d of DIRECTIONS) {
  UNITS[`${d}_iops`] = "ops/sec";
  UNITS[`${d}_bw`] = "bytes/sec";
  UNITS[`${d}_clat_mean`] = "us";
  for (const p of Object.keys(PERCENTILES)) UNITS[`${d}_clat_${p}`] = "us";
}

/** Which directions a parameter-built job exercises. */
function directionsOf(rw: unknown): Set<string> {
  if (typeof rw !== "string") return new Set();
  if (/rw|readwrite/.test(rw)) return new Set(DIRECTIONS);
  return new Set([/read/.test(rw) ? "read" : "write"]);
}

const ERRNO_NAMES = new Map(Object.entries(constants.errno).map(([name, n]) => [n, name]));

function describeJobError(job: Record<string, unknown>, code: number, text: string): string {
  const name = typeof job.jobname === "string" ? job.jobname : "?";
  const errno = ERRNO_NAMES.get(code);
  const said = /error=([^,\n]+)\s*$/m.exec(text)?.[1]?.trim();
  const detail = [errno, said].filter(Boolean).join(": ");
  return `fio job ${name} failed with error ${code}${detail ? ` (${detail})` : ""}`;
}

export function parseFio(raw: RawOutput, params: Params): ParseOutcome {
  const read = parseJsonAfterNotes(raw.stdout);
  if (!read.ok) return read;
  const jobs = read.value.jobs;
  if (!Array.isArray(jobs) || jobs.length === 0) return { ok: false, problem: "output has no jobs" };
  if (!jobs.every(isRecord)) return { ok: false, problem: "output has a job that is not an object" };
  const wanted = typeof params.job_file === "string" ? new Set<string>() : directionsOf(params.rw);
  const metrics: Metrics = {};
  for (const d of DIRECTIONS) {
    const active = jobs.filter((j) => (numberAt(j, `${d}.total_ios`) ?? 0) > 0);
    if (active.length === 0 && !wanted.has(d)) continue;
    let iops = 0;
    let bw = 0;
    for (const j of jobs) {
      const jobIops = numberAt(j, `${d}.iops`);
      const jobBw = numberAt(j, `${d}.bw_bytes`);
      if (jobIops === undefined || jobBw === undefined)
        return { ok: false, problem: `job ${String(j.jobname)} has no ${d}.iops or ${d}.bw_bytes` };
      iops += jobIops;
      bw += jobBw;
    }
    metrics[`${d}_iops`] = iops;
    metrics[`${d}_bw`] = bw;
    let n = 0;
    let weighted = 0;
    for (const j of active) {
      const count = numberAt(j, `${d}.clat_ns.N`) ?? 0;
      const mean = numberAt(j, `${d}.clat_ns.mean`);
      if (count > 0 && mean !== undefined) {
        n += count;
        weighted += mean * count;
      }
      const table = getPath(j, `${d}.clat_ns.percentile`);
      for (const [name, key] of Object.entries(PERCENTILES)) {
        // Keys such as "99.900000" contain dots: read them directly, not as a path.
        const v = isRecord(table) && Object.hasOwn(table, key) ? table[key] : undefined;
        const ns = typeof v === "number" && Number.isFinite(v) ? v : undefined;
        const metric = `${d}_clat_${name}`;
        if (ns !== undefined) metrics[metric] = Math.max(Number(metrics[metric] ?? 0), ns / 1000);
      }
    }
    putNumbers(metrics, { [`${d}_clat_mean`]: n > 0 ? weighted / n / 1000 : undefined });
  }
  const failed = jobs.filter((j) => {
    const e = j.error;
    return typeof e === "number" && e !== 0;
  });
  metrics.errors = failed.length;
  if (failed.length > 0) {
    const first = failed[0]!;
    return {
      ok: true,
      metrics,
      toolError: describeJobError(first, first.error as number, `${raw.stdout}\n${raw.stderr}`),
    };
  }
  return { ok: true, metrics };
}

function jobArgs(params: Params, directory: string): string[] {
  const p = (name: string, fallback: string | number): string => param(params, name, fallback);
  return [
    "--name=tiers",
    `--directory=${directory}`,
    `--rw=${p("rw", "randrw")}`,
    `--bs=${p("bs", "4k")}`,
    `--size=${p("size", "16M")}`,
    `--runtime=${p("runtime", 5)}`,
    "--time_based",
    `--iodepth=${p("iodepth", 1)}`,
    `--numjobs=${p("numjobs", 1)}`,
    `--ioengine=${p("ioengine", "psync")}`,
    `--direct=${params.direct === true ? 1 : 0}`,
    `--rwmixread=${p("rwmixread", 50)}`,
    "--group_reporting",
    "--unlink=1",
  ];
}

export function createFioAdapter(config: AdapterConfig): ProcessAdapter {
  const binary = config.binary ?? "fio";
  return {
    kind: "process",
    tool: "fio",
    units: UNITS,
    executable: () => binary,
    versionArgs: ["--version"],
    parseVersion: (out) => /^fio-(\S+)/m.exec(out)?.[1] ?? null,
    async prepare(params, ctx, executablePath) {
      const own =
        typeof params.directory === "string" ? undefined : await mkdtemp(join(ctx.scratchDir, "fio-"));
      const directory = own ?? (params.directory as string);
      const args =
        typeof params.job_file === "string"
          ? ["--output-format=json", params.job_file]
          : ["--output-format=json", ...jobArgs(params, directory)];
      return {
        // A job file's relative paths resolve against the scratch space, never a directory that may not exist.
        invocation: { file: executablePath, args, cwd: own ?? ctx.scratchDir },
        cleanup: async () => {
          if (own) await rm(own, { recursive: true, force: true });
        },
      };
    },
    parse: parseFio,
  };
}
