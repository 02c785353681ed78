import { execa, type ResultPromise } from "execa";
import { killGroup, terminateTree } from "./tree.js";

/** A program to run: no shell, arguments as a list. */
export interface Invocation {
  readonly file: string;
  readonly args: readonly string[];
  readonly cwd?: string;
  /** Added to the orchestrator's environment. */
  readonly env?: Readonly<Record<string, string>>;
}

/** How a run ended. */
export type EndedBy = "exit" | "timeout" | "cancel" | "output_limit" | "spawn_error";

export interface Completed {
  readonly stdout: Uint8Array;
  readonly stderr: Uint8Array;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly endedBy: EndedBy;
  /** Why the tool could not start (ENOENT, EACCES, …), for `spawn_error`. */
  readonly spawnError?: string;
  readonly durationMs: number;
}

export interface RunOptions {
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** Per stream; past it the tool is stopped and its output is cut. */
  readonly maxOutputBytes?: number;
  /** Between SIGTERM and SIGKILL when the tree is stopped. */
  readonly killGraceMs?: number;
}

export const DEFAULT_MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

/** Groups still running, killed if the orchestrator exits (a detached group is not cleaned up by execa). */
const liveGroups = new Set<number>();
let exitHookInstalled = false;
function trackGroup(pid: number): void {
  liveGroups.add(pid);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const group of liveGroups) killGroup(group);
  });
}

function startDetached(inv: Invocation, extra: { maxBuffer?: number; buffer: boolean }): ResultPromise {
  return execa(inv.file, [...inv.args], {
    cwd: inv.cwd,
    env: inv.env ? { ...inv.env } : undefined,
    extendEnv: true,
    // Its own process group, so the whole tree can be signalled at once.
    detached: true,
    cleanup: false,
    reject: false,
    stdin: "ignore",
    encoding: "buffer",
    stripFinalNewline: false,
    buffer: extra.buffer,
    maxBuffer: extra.maxBuffer,
  });
}

/**
 * Runs a tool to completion as its own process tree. A timeout or an abort stops the whole tree
 * (SIGTERM, then SIGKILL after the grace period); when the tool itself exits, anything it left in
 * its group is killed, so no background child outlives it. Never rejects: every way a run can end
 * is in `endedBy`.
 */
export async function runToCompletion(inv: Invocation, options: RunOptions): Promise<Completed> {
  const started = performance.now();
  if (options.signal?.aborted) {
    return {
      stdout: new Uint8Array(),
      stderr: new Uint8Array(),
      exitCode: null,
      signal: null,
      endedBy: "cancel",
      durationMs: 0,
    };
  }
  const subprocess = startDetached(inv, {
    buffer: true,
    maxBuffer: options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES,
  });
  const pid = subprocess.pid;
  let endedBy: EndedBy = "exit";
  let stopping: Promise<unknown> | undefined;
  const stop = (why: EndedBy): void => {
    if (pid === undefined || stopping) return;
    endedBy = why;
    stopping = terminateTree(pid, options.killGraceMs ?? 2000);
  };
  const timer = setTimeout(() => stop("timeout"), options.timeoutMs);
  const onAbort = (): void => stop("cancel");
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (pid !== undefined) {
    trackGroup(pid);
    // The leader is gone: whatever it left behind in its group would hold the pipes open.
    subprocess.once("exit", () => killGroup(pid));
  }
  try {
    const result = await subprocess;
    await stopping;
    const spawnCode = (result.cause as { code?: unknown } | undefined)?.code;
    if (
      pid === undefined ||
      (result.exitCode === undefined && typeof spawnCode === "string" && !result.signal)
    ) {
      endedBy = "spawn_error";
    } else if (result.isMaxBuffer && endedBy === "exit") {
      endedBy = "output_limit";
    }
    return {
      stdout: toBytes(result.stdout),
      stderr: toBytes(result.stderr),
      exitCode: result.exitCode ?? null,
      signal: result.signal ?? null,
      endedBy,
      ...(endedBy === "spawn_error"
        ? { spawnError: typeof spawnCode === "string" ? spawnCode : result.shortMessage }
        : {}),
      durationMs: performance.now() - started,
    };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
    if (pid !== undefined) liveGroups.delete(pid);
  }
}

function toBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === "string") return new TextEncoder().encode(value);
  return new Uint8Array();
}

/** A long-running helper process (an iperf3 server, stress-ng hogs): started, watched, stopped. */
export interface Running {
  readonly pid: number;
  /** Resolves when the leader exits. */
  readonly exited: Promise<{ exitCode: number | null; signal: string | null }>;
  /** Calls `onLine` for each line the process writes to stdout or stderr (which one is the second argument). */
  onLine(onLine: (line: string, stream: "stdout" | "stderr") => void): void;
  /** Stops the whole tree; idempotent. */
  stop(graceMs?: number): Promise<void>;
}

/** Starts a long-running helper detached in its own group. Throws if it cannot start. */
export function startRunning(inv: Invocation): Running {
  const subprocess = startDetached(inv, { buffer: false });
  const pid = subprocess.pid;
  if (pid === undefined) {
    // Let execa's rejection-free result carry the reason.
    throw new Error(`could not start ${inv.file}`);
  }
  trackGroup(pid);
  const exited = subprocess.then((r) => {
    liveGroups.delete(pid);
    killGroup(pid);
    return { exitCode: r.exitCode ?? null, signal: r.signal ?? null };
  });
  const listeners: ((line: string, stream: "stdout" | "stderr") => void)[] = [];
  const pending = { stdout: "", stderr: "" };
  for (const name of ["stdout", "stderr"] as const) {
    subprocess[name]?.on("data", (chunk: Buffer) => {
      const text = pending[name] + chunk.toString("utf8");
      const lines = text.split("\n");
      pending[name] = lines.pop() ?? "";
      for (const line of lines) for (const l of listeners) l(line, name);
    });
  }
  let stopping: Promise<void> | undefined;
  return {
    pid,
    exited,
    onLine: (l) => listeners.push(l),
    stop: (graceMs = 2000) => {
      stopping ??= (async () => {
        await terminateTree(pid, graceMs);
        await exited;
      })();
      return stopping;
    },
  };
}
