import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import type { ResultUnit } from "../../../tiers/schema/contract.js";
import type { AdapterConfig, Params, ParseOutcome, ProcessAdapter, RawOutput } from "./adapter.js";
import { getPath, isRecord, parseJson, preview, putNumbers, type Metrics } from "./output.js";
import { param } from "./params.js";

/**
 * elbencho (ElbenchoContract, seed 000). Not packaged in Debian: this adapter runs where elbencho
 * is installed and is tested on result files written from its documented format. elbencho appends
 * one JSON object per benchmark phase to `--jsonfile` (boost property_tree: every value is a
 * string, `/` in keys is escaped as `\/`; the format is marked experimental upstream). The adapter
 * runs one operation and reads that phase's `last_done` figures (the whole phase, until the last
 * thread finished).
 */

export const RESULTS_FILE = "results.json";

/** Operation → elbencho flags and the phase name it reports. */
const OPERATIONS: Readonly<Record<string, { flags: string[]; phase: string }>> = {
  write: { flags: ["-d", "-w"], phase: "WRITE" },
  read: { flags: ["-r"], phase: "READ" },
  mkdirs: { flags: ["-d"], phase: "MKDIRS" },
  delfiles: { flags: ["-F"], phase: "RMFILES" },
  deldirs: { flags: ["-D"], phase: "RMDIRS" },
  stat: { flags: ["--stat"], phase: "STAT" },
};

const UNITS: Record<string, ResultUnit> = {
  iops: "ops/sec",
  throughput: "bytes/sec",
  entries_per_sec: "ops/sec",
  elapsed: "ms",
  latency_avg: "us",
  entries_latency_avg: "us",
  cpu_utilization_percent: "percent",
};

/** A number written as a JSON number or as a numeric string (boost writes strings). */
function numeric(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value !== "string" || !/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(value.trim())) return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

export function parseElbencho(raw: RawOutput, params: Params): ParseOutcome {
  const text = raw.files[RESULTS_FILE];
  if (text === undefined) return { ok: false, problem: "elbencho wrote no JSON results file" };
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  if (lines.length === 0) return { ok: false, problem: "the JSON results file is empty" };
  const phase = OPERATIONS[param(params, "operation", "write")]?.phase ?? "WRITE";
  const phases: Record<string, unknown>[] = [];
  for (const line of lines) {
    const read = parseJson(line);
    if (!read.ok) return { ok: false, problem: `results file: ${read.problem}` };
    if (!isRecord(read.value))
      return { ok: false, problem: `results file has a line that is not an object (${preview(line)})` };
    phases.push(read.value);
  }
  const entry = phases.filter((p) => p.phase_type === phase).at(-1);
  if (!entry) {
    const seen = phases.map((p) => String(p.phase_type)).join(", ");
    return { ok: false, problem: `results file has no ${phase} phase (has ${seen || "none"})` };
  }
  const last = getPath(entry, "last_done");
  if (!isRecord(last)) return { ok: false, problem: `the ${phase} phase has no last_done results` };
  const metrics: Metrics = {};
  putNumbers(metrics, {
    iops: numeric(last.iops),
    throughput: numeric(last["bytes/s"]),
    entries_per_sec: numeric(last["entries/s"]),
    elapsed: numeric(last.elapsed_time_ms),
    latency_avg: numeric(getPath(last, "latency.IO.avg_us")),
    entries_latency_avg: numeric(getPath(last, "latency.entries.avg_us")),
    cpu_utilization_percent: numeric(last["cpu%"]),
  });
  if (metrics.elapsed === undefined)
    return { ok: false, problem: `the ${phase} phase has no elapsed_time_ms` };
  return { ok: true, metrics };
}

export function createElbenchoAdapter(config: AdapterConfig): ProcessAdapter {
  const binary = config.binary ?? "elbencho";
  return {
    kind: "process",
    tool: "elbencho",
    units: UNITS,
    executable: () => binary,
    versionArgs: ["--version"],
    parseVersion: (out) => /Version: (\S+)/.exec(out)?.[1] ?? null,
    async prepare(params, ctx, executablePath) {
      const dir = await mkdtemp(join(ctx.scratchDir, "elbencho-"));
      const target = typeof params.path === "string" ? params.path : join(dir, "data");
      // elbencho's directory mode needs the benchmark directory to exist.
      if (target !== params.path) await mkdir(target);
      const op = OPERATIONS[param(params, "operation", "write")] ?? OPERATIONS.write!;
      const resultsPath = join(dir, RESULTS_FILE);
      const args = [target, ...op.flags, "-t", param(params, "threads", 1)];
      args.push("-b", param(params, "block_size", "1M"), "-s", param(params, "file_size", "64M"));
      args.push("-N", param(params, "files", 1), "-n", param(params, "dirs", 1));
      if (params.direct === true) args.push("--direct");
      args.push("--lat", "--nolive", "--jsonfile", resultsPath);
      return {
        invocation: { file: executablePath, args, cwd: dir },
        outputFiles: { [RESULTS_FILE]: resultsPath },
        cleanup: () => rm(dir, { recursive: true, force: true }),
      };
    },
    parse: parseElbencho,
  };
}
