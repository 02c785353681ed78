import { createServer } from "node:net";
import { startRunning, type Running } from "../process/spawn.js";

/**
 * An iperf3 server on a free loopback port, for environments that have no server of their own: the
 * iperf3 adapter starts one per test (`-1`: it serves one test and exits) and stops it in cleanup.
 */

export interface Iperf3Server {
  readonly host: string;
  readonly port: number;
  readonly pid: number;
  /** Stops the server (and anything it started); idempotent. */
  stop(): Promise<void>;
}

export interface Iperf3ServerOptions {
  readonly binary: string;
  readonly host?: string;
  /** Serve one test and exit (`-1`). Default true. */
  readonly oneOff?: boolean;
  readonly readyTimeoutMs?: number;
  /** Tries with a new port when the chosen one was taken meanwhile. */
  readonly attempts?: number;
  /**
   * A one-off server exits after this many seconds without a client (iperf3 `--idle-timeout`), so
   * it cannot outlive an orchestrator that was killed before its client connected. @default 60
   */
  readonly idleTimeoutS?: number;
}

/** A port the kernel says is free on `host` right now. */
export async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function waitListening(running: Running, port: number, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const lines: string[] = [];
    const timer = setTimeout(() => resolve(`no "Server listening" line within ${timeoutMs} ms`), timeoutMs);
    running.onLine((line) => {
      lines.push(line);
      if (line.includes(`Server listening on ${port}`)) {
        clearTimeout(timer);
        resolve(null);
      }
    });
    void running.exited.then(({ exitCode }) => {
      clearTimeout(timer);
      const said = lines.filter((l) => l.startsWith("iperf3:")).join("; ");
      resolve(`iperf3 server exited with code ${exitCode ?? "null"}${said ? `: ${said}` : ""}`);
    });
  });
}

/** Starts `iperf3 -s` on a free port of `host` (127.0.0.1) and waits until it listens. */
export async function startIperf3Server(options: Iperf3ServerOptions): Promise<Iperf3Server> {
  const host = options.host ?? "127.0.0.1";
  const attempts = options.attempts ?? 3;
  let lastProblem = "";
  for (let i = 0; i < attempts; i++) {
    const port = await freePort(host);
    const running = startRunning({
      file: options.binary,
      args: [
        "-s",
        ...(options.oneOff === false ? [] : ["-1", "--idle-timeout", String(options.idleTimeoutS ?? 60)]),
        "-B",
        host,
        "-p",
        String(port),
        "--forceflush",
      ],
    });
    const problem = await waitListening(running, port, options.readyTimeoutMs ?? 5000);
    if (problem === null) {
      return { host, port, pid: running.pid, stop: () => running.stop() };
    }
    await running.stop();
    lastProblem = problem;
    if (!/Address already in use/.test(problem)) break;
  }
  throw new Error(`could not start an iperf3 server on ${host}: ${lastProblem}`);
}
