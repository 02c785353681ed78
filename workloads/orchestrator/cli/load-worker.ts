import type { Command } from "commander";
import { ConfigError, type ConfigIssue } from "../../../tiers/config/issues.js";
import { splitLoad } from "../load/merge.js";
import { runLoadWorker } from "../load/worker.js";

type Run = (body: () => Promise<number | void>) => Promise<void>;

interface WorkerFlags {
  url: string;
  connections: string;
  rps: string;
  duration: string;
  method: string;
  timeout: string;
  index: string;
  waitForStart?: boolean;
  rawLatencies?: string;
  workers?: string;
  startAt?: string;
}

const METHODS = ["GET", "POST", "PUT"] as const;

/** Checks the flags all at once; on the cluster the index comes from the Job (JOB_COMPLETION_INDEX). */
function workerOptions(flags: WorkerFlags, env: NodeJS.ProcessEnv) {
  const issues: ConfigIssue[] = [];
  const num = (flag: string, text: string, min: number, integer: boolean): number => {
    const n = Number(text);
    if (text.trim() === "" || !Number.isFinite(n) || n < min || (integer && !Number.isInteger(n)))
      issues.push({
        file: "command line",
        path: flag,
        message: "not a valid value",
        got: JSON.stringify(text),
        expected: `${integer ? "an integer" : "a number"} of at least ${min}`,
      });
    return n;
  };
  if (!URL.canParse(flags.url) || !/^https?:$/.test(new URL(flags.url).protocol))
    issues.push({
      file: "command line",
      path: "--url",
      message: "not an http(s) URL",
      got: JSON.stringify(flags.url),
    });
  if (!(METHODS as readonly string[]).includes(flags.method))
    issues.push({
      file: "command line",
      path: "--method",
      message: "unknown method",
      got: JSON.stringify(flags.method),
      expected: METHODS.join(", "),
    });
  const indexText = flags.index === "job" ? (env.JOB_COMPLETION_INDEX ?? "") : flags.index;
  const index = num(flags.index === "job" ? "JOB_COMPLETION_INDEX" : "--index", indexText, 0, true);
  let connections = num("--connections", flags.connections, 1, true);
  let rps = num("--rps", flags.rps, 0, false);
  const startAtMs = flags.startAt !== undefined ? num("--start-at", flags.startAt, 0, true) : undefined;
  if (flags.workers !== undefined) {
    // --rps and --connections are the whole run's; this worker takes its index's share of them.
    const workers = num("--workers", flags.workers, 1, true);
    if (issues.length === 0) {
      const shares = splitLoad({ rps, connections }, workers);
      const share = shares[index];
      if (share) {
        connections = share.connections;
        rps = share.rps;
      } else
        issues.push({
          file: "command line",
          path: flags.index === "job" ? "JOB_COMPLETION_INDEX" : "--index",
          message: "no share for this index",
          got: String(index),
          expected: `an index below ${shares.length} (the shares of ${rps} rps over ${connections} connections for --workers ${workers})`,
        });
    }
  }
  const options = {
    url: flags.url,
    method: flags.method as (typeof METHODS)[number],
    connections,
    rps,
    durationS: num("--duration", flags.duration, 0.1, false),
    timeoutS: num("--timeout", flags.timeout, 0.1, false),
    index,
    waitForStart: flags.waitForStart ?? false,
    ...(startAtMs !== undefined ? { startAtMs } : {}),
    ...(flags.rawLatencies !== undefined ? { rawLatenciesFile: flags.rawLatencies } : {}),
  };
  if (issues.length > 0) throw new ConfigError(issues, "invalid load-worker flags");
  return options;
}

/** `orchestrator load-worker`: one share of a phase's HTTP load, reported as JSON lines on stdout. */
export function registerLoadWorker(program: Command, run: Run): void {
  program
    .command("load-worker")
    .description(
      "run one share of a phase's HTTP load and write its per-second counts and latency histograms as JSON lines",
    )
    .requiredOption("--url <url>", "the target")
    .option("--connections <n>", "connections this worker keeps open", "10")
    .option("--rps <n>", "this worker's share of the target rate (0: unthrottled)", "0")
    .option("--duration <s>", "seconds of load", "10")
    .option("--method <m>", "GET, POST or PUT", "GET")
    .option("--timeout <s>", "per request", "10")
    .option("--index <i>", "this worker's index, or \"job\" for the Job's completion index", "0")
    .option("--wait-for-start", "print ready, then wait for SIGUSR2 before loading")
    .option(
      "--workers <n>",
      "--rps and --connections are the whole run's, split over n workers: this one runs its index's share",
    )
    .option("--start-at <epoch-ms>", "print ready, then start the load at this instant (a load Job's pods)")
    .option("--raw-latencies <file>", "test mode: also write every latency (ms) to this file")
    .action((flags: WorkerFlags) =>
      run(async () => {
        const options = workerOptions(flags, process.env);
        return runLoadWorker(options, (line) => process.stdout.write(`${JSON.stringify(line)}\n`));
      }),
    );
}
