import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { ExitCode, TiersError } from "../../tiers/errors.js";

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
  /** Every stdout/stderr line, for logs. */
  readonly onLine?: (stream: "stdout" | "stderr", line: string) => void;
  readonly startTimeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
}

export interface OrchestratorProcess {
  readonly pid: number;
  readonly port: number;
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
  createInterface({ input: child.stderr! }).on("line", (line) => {
    stderrTail.push(line);
    if (stderrTail.length > 40) stderrTail.shift();
    options.onLine?.("stderr", line);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      killGroup("SIGKILL");
      reject(
        new TiersError(
          ExitCode.Infrastructure,
          `orchestrator ${options.environment} did not start within ${options.startTimeoutMs ?? 30_000} ms`,
        ),
      );
    }, options.startTimeoutMs ?? 30_000);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(
        new TiersError(
          code === ExitCode.InvalidConfig ? ExitCode.InvalidConfig : ExitCode.Infrastructure,
          `orchestrator ${options.environment} exited before it listened (${signal ?? `code ${code}`}): ${stderrTail.slice(-5).join(" | ")}`,
        ),
      );
    });
    createInterface({ input: child.stdout! }).on("line", (line) => {
      options.onLine?.("stdout", line);
      let event: { event?: string; port?: number };
      try {
        event = JSON.parse(line) as typeof event;
      } catch {
        return;
      }
      if (event.event !== "listening" || typeof event.port !== "number") return;
      clearTimeout(timer);
      const port = event.port;
      resolve({
        pid: child.pid!,
        port,
        url: `http://127.0.0.1:${port}`,
        exited,
        stderrTail,
        kill: () => killGroup("SIGKILL"),
        async stop(graceMs = 15_000) {
          if (child.exitCode !== null || child.signalCode !== null) {
            killGroup("SIGKILL");
            return;
          }
          killGroup("SIGTERM");
          const t = setTimeout(() => killGroup("SIGKILL"), graceMs);
          await exited;
          clearTimeout(t);
          // Anything of the group still alive (a tool it started) goes too.
          killGroup("SIGKILL");
        },
      });
    });
  });
}
