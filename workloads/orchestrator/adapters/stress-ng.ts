import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import type { ResultUnit } from "../../../tiers/schema/contract.js";
import type { AdapterConfig, Params, ParseOutcome, ProcessAdapter, RawOutput } from "./adapter.js";
import { isRecord, numberAt, preview, putNumbers, type Metrics } from "./output.js";
import { optionalParam, param } from "./params.js";

/**
 * stress-ng (StressNgContract): CPU, VM, IO … pressure with a timeout; metrics from the YAML file
 * it writes with `--metrics --yaml` (bogo ops, rates, times, CPU use, max RSS). Its exit status
 * has documented meanings (stress-ng(1) "EXIT STATUS"); any but 0 fails the run with that meaning.
 */

export const METRICS_FILE = "metrics.yaml";

/** stress-ng(1), EXIT STATUS. */
export const STRESS_NG_EXIT_MEANINGS: Readonly<Record<number, string>> = {
  1: "incorrect options or a fatal resource issue in the stress-ng harness",
  2: "one or more stressors failed",
  3: "one or more stressors failed to initialise for lack of resources",
  4: "one or more stressors are not implemented on this system",
  5: "a stressor was killed by an unexpected signal",
  6: "a stressor exited unexpectedly and its timing metrics could not be gathered",
  7: "the bogo-ops metrics may be untrustworthy",
};

const UNITS: Record<string, ResultUnit> = {
  bogo_ops: "count",
  bogo_ops_per_sec_real: "ops/sec",
  bogo_ops_per_sec_cpu: "ops/sec",
  wall_clock: "s",
  user_time: "s",
  system_time: "s",
  cpu_usage_per_instance: "percent",
  max_rss: "bytes",
};

function exitProblem(exitCode: number | null): string | undefined {
  if (exitCode === null || exitCode === 0) return undefined;
  const meaning = STRESS_NG_EXIT_MEANINGS[exitCode];
  return `stress-ng exited with code ${exitCode}${meaning ? ` (${meaning})` : ""}`;
}

export function parseStressNg(raw: RawOutput, params: Params): ParseOutcome {
  const toolError = exitProblem(raw.exitCode);
  const text = raw.files[METRICS_FILE];
  if (text === undefined) {
    return toolError
      ? { ok: true, metrics: {}, toolError }
      : { ok: false, problem: "stress-ng wrote no YAML metrics file" };
  }
  if (text.trim() === "")
    return toolError
      ? { ok: true, metrics: {}, toolError }
      : { ok: false, problem: "the YAML metrics file is empty" };
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 100, uniqueKeys: false, logLevel: "error" });
  } catch (error) {
    const message = ((error as Error).message.split("\n")[0] ?? "").replace(/:\s*$/, "");
    return { ok: false, problem: `the metrics file is not YAML: ${message.slice(0, 160)}` };
  }
  if (!isRecord(doc) || !Array.isArray(doc.metrics)) {
    return toolError
      ? { ok: true, metrics: {}, toolError }
      : { ok: false, problem: `the metrics file has no metrics list (starts with ${preview(text.trim())})` };
  }
  const entries = (doc.metrics as unknown[]).filter(isRecord);
  const entry = entries.find((m) => m.stressor === params.stressor) ?? entries[0];
  if (!entry)
    return toolError
      ? { ok: true, metrics: {}, toolError }
      : { ok: false, problem: "the metrics list is empty" };
  const metrics: Metrics = {};
  const rssKb = numberAt(entry, "max-rss");
  putNumbers(metrics, {
    bogo_ops: numberAt(entry, "bogo-ops"),
    bogo_ops_per_sec_real: numberAt(entry, "bogo-ops-per-second-real-time"),
    bogo_ops_per_sec_cpu: numberAt(entry, "bogo-ops-per-second-usr-sys-time"),
    wall_clock: numberAt(entry, "wall-clock-time"),
    user_time: numberAt(entry, "user-time"),
    system_time: numberAt(entry, "system-time"),
    cpu_usage_per_instance: numberAt(entry, "cpu-usage-per-instance"),
    max_rss: rssKb === undefined ? undefined : rssKb * 1024,
  });
  return toolError ? { ok: true, metrics, toolError } : { ok: true, metrics };
}

export function createStressNgAdapter(config: AdapterConfig): ProcessAdapter {
  const binary = config.binary ?? "stress-ng";
  return {
    kind: "process",
    tool: "stress-ng",
    units: UNITS,
    executable: () => binary,
    versionArgs: ["--version"],
    parseVersion: (out) => /version (\d+(?:\.\d+)+)/.exec(out)?.[1] ?? null,
    checkParameters(params) {
      const problems: string[] = [];
      if (params.cpu_load !== undefined && params.stressor !== "cpu")
        problems.push(`cpu_load: only applies to the cpu stressor (got stressor ${String(params.stressor)})`);
      if (params.vm_bytes !== undefined && params.stressor !== "vm")
        problems.push(`vm_bytes: only applies to the vm stressor (got stressor ${String(params.stressor)})`);
      return problems;
    },
    async prepare(params, ctx, executablePath) {
      const dir = await mkdtemp(join(ctx.scratchDir, "stress-ng-"));
      const yamlPath = join(dir, METRICS_FILE);
      const stressor = param(params, "stressor", "cpu");
      const args = [
        `--${stressor}`,
        param(params, "workers", 1),
        "--timeout",
        `${param(params, "timeout", 5)}s`,
      ];
      args.push("--metrics", "--yaml", yamlPath, "--temp-path", dir);
      const cpuLoad = optionalParam(params, "cpu_load");
      if (cpuLoad !== undefined) args.push("--cpu-load", cpuLoad);
      const vmBytes = optionalParam(params, "vm_bytes");
      if (vmBytes !== undefined) args.push("--vm-bytes", vmBytes);
      return {
        invocation: { file: executablePath, args, cwd: dir },
        outputFiles: { [METRICS_FILE]: yamlPath },
        cleanup: () => rm(dir, { recursive: true, force: true }),
      };
    },
    parse: parseStressNg,
  };
}
