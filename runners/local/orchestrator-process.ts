import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { ExitCode, TiersError } from "../../tiers/errors.js";
import { killSnapshot, snapshotTree, type TreeMember } from "../../workloads/orchestrator/process/tree.js";

const BIN = fileURLToPath(new URL("../../bin/orchestrator.js", import.meta.url));

export interface OrchestratorProcessOptions {
  readonly dataDir: string;
  readonly environment: string;
  readonly tokenFile: string;
  readonly planFile?: string;
  /** @default "127.0.0.1:0" (a free loopback port) */
  readonly listen?: string;
  readonly regionLatencyMs?: number;
  readonly configFile?: string;
  /** The certificate and key it serves HTTPS with (`--tls-cert`, `--tls-key`), unless its config names them. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
  /** Plain HTTP (`--insecure-http`): only when asked for. */
  readonly insecureHttp?: boolean;
  /** Every stdout/stderr line, for logs. */
  readonly onLine?: (stream: "stdout" | "stderr", line: string) => void;
  readonly startTimeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
  /** Stop when this process dies, even by SIGKILL (`--exit-with-parent`). @default true */
  readonly exitWithParent?: boolean;
  /** Aborting before the process listens kills its group and rejects with Interrupted. */
  readonly signal?: AbortSignal;
  /** Called the moment the process is spawned (before it listens), so a caller's teardown can find it. */
  readonly onSpawn?: (child: SpawnedProcess) => void;
}

/** A spawned orchestrator process group, before or after it listens. */
export interface SpawnedProcess {
  readonly pid: number;
  readonly environment: string;
  /** SIGTERM to its process group, SIGKILL after `graceMs`; resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL to the whole process group. */
  kill(): void;
}

export interface OrchestratorProcess {
  readonly pid: number;
  readonly port: number;
  /** `https://127.0.0.1:<port>`, or `http://` when it serves plain HTTP (`--insecure-http`). */
  readonly url: string;
  /** Resolves with the exit code (or the signal) when the process ends. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The last lines it wrote on stderr. */
  readonly stderrTail: readonly string[];
  /** SIGTERM to its process group (it interrupts its cycle and stops its SUT), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL to the whole process group at once (a crash, as far as the environment can tell). */
  kill(): void;
}

/**
 * Starts `orchestrator serve` as its own process group (the SUT it supervises belongs to the group,
 * so stopping the group leaves nothing behind) and resolves once it listens.
 */
export function startOrchestratorProcess(options: OrchestratorProcessOptions): Promise<OrchestratorProcess> {
  const args = [
    BIN,
    "serve",
    "--data-dir",
    options.dataDir,
    "--env",
    options.environment,
    "--token-file",
    options.tokenFile,
    "--listen",
    options.listen ?? "127.0.0.1:0",
  ];
  if (options.planFile) args.push("--plan", options.planFile);
  if (options.configFile) args.push("--config", options.configFile);
  if (options.tls) args.push("--tls-cert", options.tls.certFile, "--tls-key", options.tls.keyFile);
  if (options.insecureHttp) args.push("--insecure-http");
  if (options.exitWithParent ?? true) args.push("--exit-with-parent");
  if (options.regionLatencyMs !== undefined)
    args.push("--region-latency-ms", String(options.regionLatencyMs));
  const child: ChildProcess = spawn(process.execPath, args, {
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: options.env ?? process.env,
  });
  const stderrTail: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const killGroup = (signal: NodeJS.Signals): void => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  // Tools run in process groups of their own (so the orchestrator can stop a tool's whole tree);
  // killing the orchestrator's group misses them, and once it is dead they are re-parented and no
  // longer its descendants. So the descendants are noted before the kill and killed with it.
  // Noted every second too: if the orchestrator dies (killed from outside), its tools are found
  // from the last note and stopped with the rest at teardown.
  let noted: TreeMember[] = [];
  const note = (): TreeMember[] => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      const now = snapshotTree(child.pid);
      noted = [...now, ...noted.filter((m) => !now.some((n) => n.pid === m.pid))].slice(0, 256);
    }
    return noted;
  };
  const noter = setInterval(note, 1000).unref();
  void exited.then(() => clearInterval(noter));
  const killTree = (): void => {
    const members = note();
    killGroup("SIGKILL");
    killSnapshot(members);
  };
  const stop = async (graceMs = 15_000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) {
      killGroup("SIGKILL");
      killSnapshot(noted);
      return;
    }
    const members = note();
    killGroup("SIGTERM");
    const t = setTimeout(killTree, graceMs);
    await exited;
    clearTimeout(t);
    // Anything of the group, or a tool it started in a group of its own, still alive goes too.
    killGroup("SIGKILL");
    killSnapshot(members);
  };
  if (child.pid !== undefined) {
    options.onSpawn?.({
      pid: child.pid,
      environment: options.environment,
      stop,
      kill: killTree,
    });
  }
  createInterface({ input: child.stderr! }).on("line", (line) => {
    stderrTail.push(line);
    if (stderrTail.length > 40) stderrTail.shift();
    options.onLine?.("stderr", line);
  });
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      killGroup("SIGKILL");
      reject(new TiersError(ExitCode.Interrupted, `orchestrator ${options.environment}: start interrupted`));
    };
    const timer = setTimeout(() => {
      killGroup("SIGKILL");
      reject(
        new TiersError(
          ExitCode.Infrastructure,
          `orchestrator ${options.environment} did not start within ${options.startTimeoutMs ?? 30_000} ms`,
        ),
      );
    }, options.startTimeoutMs ?? 30_000);
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    const settled = (): void => {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
    };
    void exited.then(({ code, signal }) => {
      settled();
      reject(
        new TiersError(
          code === ExitCode.InvalidConfig ? ExitCode.InvalidConfig : ExitCode.Infrastructure,
          `orchestrator ${options.environment} exited before it listened (${signal ?? `code ${code}`}): ${stderrTail.slice(-5).join(" | ")}`,
        ),
      );
    });
    createInterface({ input: child.stdout! }).on("line", (line) => {
      options.onLine?.("stdout", line);
      let event: { event?: string; port?: number; scheme?: string };
      try {
        event = JSON.parse(line) as typeof event;
      } catch {
        return;
      }
      if (event.event !== "listening" || typeof event.port !== "number") return;
      settled();
      const port = event.port;
      resolve({
        pid: child.pid!,
        port,
        url: `${event.scheme === "https" ? "https" : "http"}://127.0.0.1:${port}`,
        exited,
        stderrTail,
        kill: killTree,
        stop,
      });
    });
  });
}
