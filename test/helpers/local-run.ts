import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { listPids, readProcStat } from "../../workloads/orchestrator/process/proc.js";
import { REPO_ROOT } from "./cli.js";

const BIN = fileURLToPath(new URL("../../bin/tiers.js", import.meta.url));

/** A `tiers local` process whose output the test can wait on and signal. */
export interface LocalRun {
  readonly child: ChildProcess;
  /** Everything written on stdout and stderr so far. */
  output(): string;
  /** Resolves when the output matches `pattern` (rejects after `timeoutMs` or if the run ends first). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code (128 + n for a signal). */
  readonly exited: Promise<number>;
}

export function startLocalRun(args: readonly string[], env: NodeJS.ProcessEnv = {}): LocalRun {
  return startTiers(["local", ...args], env);
}

/** Any `tiers` command as a process the test can wait on and signal. */
export function startTiers(args: readonly string[], env: NodeJS.ProcessEnv = {}): LocalRun {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let text = "";
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    text += chunk.toString("utf8");
    for (const w of [...waiters]) w();
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);
  let done = false;
  const exited = new Promise<number>((resolve) =>
    child.once("close", (code, signal) => {
      done = true;
      for (const w of [...waiters]) w();
      resolve(code ?? 128 + (signal === "SIGKILL" ? 9 : 15));
    }),
  );
  return {
    child,
    output: () => text,
    exited,
    waitFor(pattern, timeoutMs = 120_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = text.match(pattern);
          if (m) {
            cleanup();
            resolve(m);
          } else if (done) {
            cleanup();
            reject(new Error(`the run ended before ${pattern}; output:\n${text}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no ${pattern} within ${timeoutMs} ms; output:\n${text}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** Every live process whose command line mentions `needle`, or whose process group is one of `groups`. */
export function processesOf(needle: string, groups: readonly number[] = []): string[] {
  const found: string[] = [];
  for (const pid of listPids()) {
    if (pid === process.pid) continue;
    let cmdline: string;
    let pgid: number;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim();
      const stat = readProcStat(pid);
      if (!stat || stat.state === "Z") continue; // gone, or a zombie that holds nothing
      pgid = stat.pgrp;
    } catch {
      continue; // exited while we looked
    }
    if (cmdline.includes(needle) || groups.includes(pgid)) found.push(`${pid} (pgid ${pgid}): ${cmdline}`);
  }
  return found;
}

/** The orchestrators the run reported: environment, pid (= its process group) and port. */
export function orchestratorsOf(output: string): { env: string; pid: number; port: number }[] {
  return [...output.matchAll(/^(env-\d+): orchestrator pid (\d+) on https:\/\/127\.0\.0\.1:(\d+)/gm)].map(
    (m) => ({
      env: m[1]!,
      pid: Number(m[2]),
      port: Number(m[3]),
    }),
  );
}
