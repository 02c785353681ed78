import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../../bin/orchestrator.js", import.meta.url));

export interface OrchestratorRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout's JSON lines. */
  readonly events: Record<string, unknown>[];
}

/** Runs an `orchestrator` command as a real process in its own group; `killAfterMs` SIGKILLs the group. */
export function runOrchestrator(args: readonly string[], killAfterMs?: number): Promise<OrchestratorRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const killGroup = (): void => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // already gone
      }
    };
    const timer = killAfterMs === undefined ? undefined : setTimeout(killGroup, killAfterMs);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      killGroup();
      const events = stdout
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      resolve({ code, signal, stdout, stderr, events });
    });
  });
}
