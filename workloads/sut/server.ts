import { createServer, type Server, type ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import type { Registry } from "prom-client";
import { createSutMetrics } from "./metrics.js";
import type { Journal } from "./storage.js";

/**
 * The sample system under test: `/work` does tunable work (CPU milliseconds, added latency, an
 * error rate, a response size, a storage write), `/healthz` says it is up (and what its clock
 * reads, so clock skew can be seen), `/metrics` exposes Prometheus metrics.
 */

export interface WorkDefaults {
  /** CPU time burnt per request, ms. */
  readonly cpuMs: number;
  /** Latency added per request, ms. */
  readonly delayMs: number;
  /** Fraction of requests answered 500, applied exactly (every 1/rate-th request). */
  readonly errorRate: number;
  /** Response body size, bytes. */
  readonly bytes: number;
}

/**
 * The session cache: every `/work` request opens a session of `bytes` that lives `ttlMs`, at most
 * `maxEntries` of them (the oldest go first). Its memory is the rate served × `ttlMs` × `bytes`, so
 * the SUT's resident memory grows with the load it serves, and never past `maxEntries × bytes`
 * (the default: 20,000 × 4 KiB = 80 MiB) however high the load.
 */
export interface SessionCacheOptions {
  readonly ttlMs: number;
  readonly maxEntries: number;
  readonly bytes: number;
}

export const DEFAULT_SESSION_CACHE: SessionCacheOptions = { ttlMs: 5000, maxEntries: 20_000, bytes: 4096 };

/**
 * Insertion-ordered (a Map iterates oldest first, and every session is new), so expiry and the
 * bound both remove from the front: O(1) a request. Small enough not to need a cache library.
 */
class SessionCache {
  private readonly sessions = new Map<number, { at: number; data: Buffer }>();
  private next = 0;
  constructor(private readonly options: SessionCacheOptions) {}

  open(now: number): void {
    if (this.options.maxEntries === 0) return;
    this.sessions.set(this.next++, { at: now, data: Buffer.alloc(this.options.bytes, this.next & 0xff) });
    for (const [id, s] of this.sessions) {
      if (this.sessions.size <= this.options.maxEntries && now - s.at < this.options.ttlMs) break;
      this.sessions.delete(id);
    }
  }

  get size(): number {
    return this.sessions.size;
  }
}

export interface SutOptions {
  readonly defaults: WorkDefaults;
  readonly journal?: Journal;
  /** @default DEFAULT_SESSION_CACHE */
  readonly sessions?: SessionCacheOptions;
}

/** Limits of each `/work` query parameter: [name, default key, min, max]. */
const WORK_PARAMS = [
  ["cpu_ms", "cpuMs", 0, 10_000],
  ["delay_ms", "delayMs", 0, 60_000],
  ["error_rate", "errorRate", 0, 1],
  ["bytes", "bytes", 0, 1_048_576],
  ["write", null, 0, 1_048_576],
] as const;

type Work = Record<(typeof WORK_PARAMS)[number][0], number>;

/** Reads `/work`'s query; returns the work or a message naming the bad parameter. */
export function parseWork(query: URLSearchParams, defaults: WorkDefaults): Work | string {
  const work = {} as Work;
  for (const [name, key, min, max] of WORK_PARAMS) {
    const text = query.get(name);
    const value = text === null ? (key ? defaults[key] : 0) : Number(text);
    if (text !== null && (text.trim() === "" || !Number.isFinite(value) || value < min || value > max)) {
      return `${name}: expected a number from ${min} to ${max} (got ${JSON.stringify(text.slice(0, 40))})`;
    }
    work[name] = value;
  }
  return work;
}

/**
 * Burns `ms` of CPU time (not wall time: on a busy machine the request takes longer, as CPU-bound
 * work does), so each request costs the SUT a known amount of CPU.
 */
function burnCpu(ms: number): number {
  if (ms <= 0) return 0;
  const start = process.cpuUsage();
  const target = ms * 1000;
  let x = 0;
  for (;;) {
    for (let i = 0; i < 2000; i++) x = (x * 1103515245 + 12345) % 2147483648;
    const used = process.cpuUsage(start);
    if (used.user + used.system >= target) break;
  }
  return x;
}

export interface Sut {
  readonly server: Server;
  readonly registry: Registry;
}

export function createSut(options: SutOptions): Sut {
  let inflight = 0;
  const sessionOptions = options.sessions ?? DEFAULT_SESSION_CACHE;
  const sessions = new SessionCache(sessionOptions);
  const { registry, requests, requestErrors, duration, injected, writes, written } = createSutMetrics(
    () => inflight,
    () => ({ count: sessions.size, bytes: sessions.size * sessionOptions.bytes }),
  );

  let errorDebt = 0;
  /** The busy loop's results, kept so the loop cannot be optimised away. */
  let checksum = 0;
  const send = (
    res: ServerResponse,
    route: string,
    code: number,
    body: string,
    type = "application/json",
  ): void => {
    res.writeHead(code, { "content-type": type, "content-length": Buffer.byteLength(body) });
    res.end(body);
    requests.inc({ code: String(code), route });
    if (code >= 400) requestErrors.inc({ code: String(code), route });
  };

  async function work(res: ServerResponse, url: URL): Promise<void> {
    const w = parseWork(url.searchParams, options.defaults);
    if (typeof w === "string") return send(res, "/work", 400, JSON.stringify({ error: w }));
    checksum ^= burnCpu(w.cpu_ms);
    sessions.open(Date.now());
    if (w.write > 0) {
      if (!options.journal)
        return send(res, "/work", 400, JSON.stringify({ error: "write: this SUT has no storage" }));
      try {
        await options.journal.write(w.write);
        writes.inc({ outcome: "ok" });
        written.inc(w.write);
      } catch (error) {
        writes.inc({ outcome: "error" });
        const code = (error as NodeJS.ErrnoException).code ?? "EIO";
        return send(res, "/work", 500, JSON.stringify({ error: `storage write failed: ${code}` }));
      }
    }
    if (w.delay_ms > 0) await sleep(w.delay_ms);
    errorDebt += w.error_rate;
    if (errorDebt >= 1 - 1e-9) {
      errorDebt -= 1;
      injected.inc();
      return send(res, "/work", 500, JSON.stringify({ error: "injected error" }));
    }
    if (w.bytes > 0) send(res, "/work", 200, ".".repeat(w.bytes), "text/plain");
    else send(res, "/work", 200, '{"ok":true}');
  }

  const server = createServer((req, res) => {
    const started = performance.now();
    inflight += 1;
    const url = new URL(req.url ?? "/", "http://sut");
    const route = ["/work", "/healthz", "/metrics"].includes(url.pathname) ? url.pathname : "other";
    res.once("close", () => {
      inflight -= 1;
      duration.observe({ route }, (performance.now() - started) / 1000);
    });
    req.resume();
    if (route === "/work" && ["GET", "POST", "PUT"].includes(req.method ?? "")) {
      work(res, url).catch((error: Error) =>
        send(res, "/work", 500, JSON.stringify({ error: error.message })),
      );
    } else if (route === "/healthz" && req.method === "GET") {
      send(res, route, 200, JSON.stringify({ status: "ok", pid: process.pid, now_ms: Date.now(), checksum }));
    } else if (route === "/metrics" && req.method === "GET") {
      registry.metrics().then(
        (text) => send(res, route, 200, text, registry.contentType),
        (error: Error) => send(res, route, 500, JSON.stringify({ error: error.message })),
      );
    } else {
      send(res, "other", 404, JSON.stringify({ error: "not found" }));
    }
  });
  server.keepAliveTimeout = 65_000;
  return { server, registry };
}
