import { spawn, type ChildProcess } from "node:child_process";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { ResourceShare, WorkDefaults } from "./server.js";

/**
 * Starts the sample SUT as its own process and restarts it whenever it dies (a killed pod comes
 * back): the local target's stand-in for a Deployment. It keeps the port of the first start, so the
 * SUT's URL never changes, and reports starts, exits and restarts with the downtime between them.
 */

// Run from the TypeScript sources (through tsx), or from compiled JavaScript (the container image).
const SOURCE = fileURLToPath(import.meta.url).endsWith(".ts");
const MAIN = join(dirname(fileURLToPath(import.meta.url)), SOURCE ? "main.ts" : "main.js");
const LOADER = SOURCE ? ["--import", import.meta.resolve("tsx")] : [];

/** A wall clock that can be moved at run time: libfaketime preloaded, offset read from a file. */
export interface FakeClock {
  /** Path of libfaketime.so.1. */
  readonly library: string;
  /** File holding the offset (`+0`, `+300`, `-1d`); rewritten to move the clock. */
  readonly timestampFile: string;
}

export interface SupervisorOptions {
  readonly host?: string;
  /** 0 (default) lets the first start pick a free port; restarts keep it. */
  readonly port?: number;
  readonly storageDir?: string;
  readonly work?: Partial<WorkDefaults>;
  /** The machine share the SUT is granted (its session cache is sized from it); absent: the SUT's default. */
  readonly share?: ResourceShare;
  readonly clock?: FakeClock;
  readonly restartDelayMs?: number;
  readonly maxRestartDelayMs?: number;
  readonly readyTimeoutMs?: number;
  /** `sut.started`, `sut.exited`, `sut.restarted` with details. */
  readonly onEvent?: (kind: string, detail: Record<string, unknown>) => void;
}

interface Waiter {
  readonly notPid: number | undefined;
  readonly resolve: (pid: number) => void;
}

export class SutSupervisor {
  private child: ChildProcess | undefined;
  private readyPid: number | undefined;
  private port: number;
  private stopping = false;
  private waiters: Waiter[] = [];
  private restartTimer: NodeJS.Timeout | undefined;
  private delayMs: number;
  private downSince: number | undefined;
  private previousPid: number | undefined;
  private startedAt = 0;
  private stderrTail: string[] = [];
  restarts = 0;

  constructor(private readonly options: SupervisorOptions = {}) {
    this.port = options.port ?? 0;
    this.delayMs = options.restartDelayMs ?? 100;
  }

  get host(): string {
    return this.options.host ?? "127.0.0.1";
  }

  /** The SUT's base URL (known once it first listened). */
  get url(): string {
    return `http://${this.host}:${this.port}`;
  }

  /** The pid of the SUT process that is up now, or undefined while it is down. */
  get pid(): number | undefined {
    return this.readyPid;
  }

  /** The last lines the SUT wrote on stderr. */
  get stderr(): readonly string[] {
    return this.stderrTail;
  }

  /** Starts the SUT and resolves once it listens. */
  async start(): Promise<void> {
    this.stopping = false;
    this.spawnChild();
    await this.waitReady();
  }

  /** Resolves with the pid of a listening SUT (one other than `notPid`, if given). */
  waitReady(options: { notPid?: number; timeoutMs?: number } = {}): Promise<number> {
    const timeoutMs = options.timeoutMs ?? this.options.readyTimeoutMs ?? 15_000;
    if (this.readyPid !== undefined && this.readyPid !== options.notPid)
      return Promise.resolve(this.readyPid);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`the SUT was not ready within ${timeoutMs} ms${this.describeStderr()}`));
      }, timeoutMs);
      const waiter: Waiter = {
        notPid: options.notPid,
        resolve: (pid) => {
          clearTimeout(timer);
          resolve(pid);
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** Stops the SUT (SIGCONT + SIGTERM, SIGKILL after 3 s) and does not restart it. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGCONT");
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
    await exited;
    clearTimeout(timer);
  }

  private describeStderr(): string {
    return this.stderrTail.length > 0 ? `; it said: ${this.stderrTail.slice(-3).join(" | ")}` : "";
  }

  private args(): string[] {
    const w = this.options.work ?? {};
    const args = [
      "--expose-gc",
      ...LOADER,
      MAIN,
      "--port",
      String(this.port),
      "--host",
      this.host,
      "--exit-with-parent",
    ];
    if (this.options.storageDir !== undefined) args.push("--storage", this.options.storageDir);
    if (w.cpuMs !== undefined) args.push("--cpu-ms", String(w.cpuMs));
    if (w.delayMs !== undefined) args.push("--delay-ms", String(w.delayMs));
    if (w.errorRate !== undefined) args.push("--error-rate", String(w.errorRate));
    if (w.bytes !== undefined) args.push("--bytes", String(w.bytes));
    const share = this.options.share;
    if (share) args.push("--memory-bytes", String(share.memoryBytes), "--cores", String(share.cores));
    return args;
  }

  private env(): NodeJS.ProcessEnv {
    const clock = this.options.clock;
    // Every allocation of 32 KiB or more (a session slab: 16 pages) its own mapping, unmapped when
    // freed: the memory a collected session held goes back to the system, so the SUT's RSS follows
    // its cache down (glibc otherwise keeps freed chunks in its heap, and raises its threshold as
    // it frees them).
    const malloc = { GLIBC_TUNABLES: "glibc.malloc.mmap_threshold=32768" };
    if (!clock) return { ...process.env, ...malloc };
    return {
      ...process.env,
      ...malloc,
      LD_PRELOAD: [clock.library, process.env.LD_PRELOAD].filter(Boolean).join(":"),
      FAKETIME_TIMESTAMP_FILE: clock.timestampFile,
      // Read the offset on every clock read, so a change applies at once.
      FAKETIME_NO_CACHE: "1",
      // Only the wall clock moves: Node's timers run on the monotonic clock and abort if it jumps back.
      FAKETIME_DONT_FAKE_MONOTONIC: "1",
    };
  }

  private spawnChild(): void {
    this.startedAt = Date.now();
    const child = spawn(process.execPath, this.args(), {
      stdio: ["ignore", "pipe", "pipe"],
      env: this.env(),
    });
    this.child = child;
    createInterface({ input: child.stdout }).on("line", (line) => this.onLine(child, line));
    createInterface({ input: child.stderr }).on("line", (line) => {
      this.stderrTail.push(line.slice(0, 300));
      if (this.stderrTail.length > 20) this.stderrTail.shift();
    });
    child.once("exit", (code, signal) => this.onExit(child, code, signal));
  }

  private onLine(child: ChildProcess, line: string): void {
    let event: { event?: unknown; port?: unknown };
    try {
      event = JSON.parse(line) as typeof event;
    } catch {
      return;
    }
    if (event.event !== "listening" || typeof event.port !== "number" || child.pid === undefined) return;
    this.port = event.port;
    this.readyPid = child.pid;
    const pid = child.pid;
    this.options.onEvent?.("sut.started", { pid, port: this.port, start_ms: Date.now() - this.startedAt });
    if (this.downSince !== undefined) {
      this.restarts += 1;
      this.options.onEvent?.("sut.restarted", {
        pid,
        previous_pid: this.previousPid,
        downtime_ms: Date.now() - this.downSince,
        restarts: this.restarts,
      });
      this.downSince = undefined;
    }
    const ready = this.waiters.filter((w) => w.notPid !== pid);
    this.waiters = this.waiters.filter((w) => w.notPid === pid);
    for (const w of ready) w.resolve(pid);
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    const uptimeMs = Date.now() - this.startedAt;
    this.readyPid = undefined;
    this.previousPid = child.pid;
    if (this.stopping) return;
    this.downSince ??= Date.now();
    this.options.onEvent?.("sut.exited", { pid: child.pid, code, signal, uptime_ms: uptimeMs });
    // Back off while it keeps dying at start; a process that ran a while restarts at once.
    this.delayMs =
      uptimeMs < 1000
        ? Math.min(this.delayMs * 2, this.options.maxRestartDelayMs ?? 5000)
        : (this.options.restartDelayMs ?? 100);
    this.restartTimer = setTimeout(() => {
      if (!this.stopping) this.spawnChild();
    }, this.delayMs);
  }
}
