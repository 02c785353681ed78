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
 * The session cache: every `/work` request opens a session that lives `ttlMs` and holds
 * `bytesPerCpuSecond` bytes for each CPU second the SUT spent since the previous session opened
 * (its request's work, and whatever else the process did meanwhile, counted over at most the last
 * `ttlMs`): a request's state in proportion to what serving it cost. Held for `ttlMs`, the cache is
 * the SUT's CPU seconds of the last `ttlMs` × `bytesPerCpuSecond`, so its memory follows the load
 * it serves; it never holds more than `maxBytes` (the oldest sessions go first), however high the
 * load. `sessionCacheFor` sizes it from the SUT's share of the machine.
 */
export interface SessionCacheOptions {
  readonly ttlMs: number;
  readonly bytesPerCpuSecond: number;
  readonly maxBytes: number;
}

/** The share of the machine a SUT is granted (its environment's CPU and memory). */
export interface ResourceShare {
  readonly memoryBytes: number;
  readonly cores: number;
}

/** The cache's bound as a fraction of the memory share: room left for the process itself. */
export const SESSION_CACHE_MAX_SHARE = 0.75;

/**
 * The cache sized so that its share of `memoryBytes` is the SUT's CPU share (of `cores`) over the
 * last `ttlMs`: `bytesPerCpuSecond = memoryBytes / (cores × ttl)`. A SUT kept 35 % busy holds 35 %
 * of its memory in sessions, one kept 75 % busy 75 %, which is also the bound (`maxBytes`,
 * `SESSION_CACHE_MAX_SHARE` of the memory: the process's own ~90 MiB and the garbage collector's
 * lag fit in the rest).
 */
export function sessionCacheFor(share: ResourceShare, ttlMs = 2000): SessionCacheOptions {
  return {
    ttlMs,
    bytesPerCpuSecond: share.memoryBytes / (share.cores * (ttlMs / 1000)),
    maxBytes: Math.floor(share.memoryBytes * SESSION_CACHE_MAX_SHARE),
  };
}

/** A SUT started without its share (tests, a bare `sut`): a quarter of a GiB, one core. */
export const DEFAULT_SHARE: ResourceShare = { memoryBytes: 256 * 1024 * 1024, cores: 1 };
export const DEFAULT_SESSION_CACHE: SessionCacheOptions = sessionCacheFor(DEFAULT_SHARE);

/** The process's user + system CPU seconds. */
const processCpuSeconds = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/**
 * The cache's unit of memory: a session holds whole slabs, and an expired session's slabs are
 * reused. 64 KiB less glibc's chunk header, so that a slab is exactly 16 pages of its own mapping
 * (the supervisor sets glibc's mmap threshold below it).
 */
export const SESSION_SLAB_BYTES = 64 * 1024 - 32;
/** Slabs of expired sessions kept for the next ones (at most 64 MiB), within the bound. */
const SPARE_SLABS = 1024;

/**
 * Insertion-ordered (a Map iterates oldest first, and every session is new), so expiry and the
 * bound both remove from the front: O(1) a request. A session's bytes accrue as credit and are held
 * in whole 64 KiB slabs; an expired session's slabs go to a small spare list the next sessions take
 * from, so in steady state the cache allocates nothing and leaves no garbage (freshly allocated
 * buffers that died waiting for the collector added 50–110 MiB of RSS above the cache). Small
 * enough not to need a cache library.
 */
export class SessionCache {
  private readonly sessions = new Map<number, { at: number; slabs: Buffer[] }>();
  private readonly spares: Buffer[] = [];
  private next = 0;
  private heldSlabs = 0;
  private credit = 0;
  private released = 0;
  private lastCpu: number;
  private lastAt: number | undefined;
  private readonly maxSlabs: number;

  constructor(
    private readonly options: SessionCacheOptions,
    private readonly cpuSeconds: () => number = processCpuSeconds,
  ) {
    this.lastCpu = cpuSeconds();
    this.maxSlabs = Math.floor(options.maxBytes / SESSION_SLAB_BYTES);
  }

  open(now: number): void {
    const { ttlMs } = this.options;
    const cpu = this.cpuSeconds();
    let spent = Math.max(0, cpu - this.lastCpu);
    // Only the last ttl counts: the first request after a quiet minute is not charged for it.
    const elapsed = this.lastAt === undefined ? Infinity : now - this.lastAt;
    if (elapsed > ttlMs) spent = this.lastAt === undefined ? 0 : spent * (ttlMs / elapsed);
    this.lastCpu = cpu;
    this.lastAt = now;
    this.credit += spent * this.options.bytesPerCpuSecond;
    const n = Math.min(this.maxSlabs, Math.floor(this.credit / SESSION_SLAB_BYTES));
    this.credit = Math.min(this.credit - n * SESSION_SLAB_BYTES, SESSION_SLAB_BYTES);
    this.expire(now, n);
    const slabs: Buffer[] = [];
    for (let i = 0; i < n; i++) {
      const reused = this.spares.pop();
      // A new slab is filled, so its pages are resident: the memory is really held.
      if (reused) reused.writeUInt32LE(this.next, 0);
      slabs.push(reused ?? Buffer.alloc(SESSION_SLAB_BYTES, this.next & 0xff));
    }
    this.sessions.set(this.next++, { at: now, slabs });
    this.heldSlabs += n;
    this.trimSpares();
    // The cache's own work (mapping and filling slabs) is not charged to the next session: were
    // it, a slow allocation would make the next session bigger, and so on (on the loaded 2-core VM
    // that fed itself until the SUT served 1 request a second).
    this.lastCpu = n > 0 ? this.cpuSeconds() : cpu;
  }

  /** The CPU spent meanwhile (a collection) is the cache's own, not a request's: not charged. */
  discount(): void {
    this.lastCpu = this.cpuSeconds();
  }

  /**
   * Lets the sessions past their lifetime go (and the oldest, while `room` more slabs would not fit
   * the bound). Called by every request, and by the SUT every second, so a cache whose load
   * stopped empties too.
   */
  expire(now: number, room = 0): void {
    for (const [id, s] of this.sessions) {
      if (this.heldSlabs + room <= this.maxSlabs && now - s.at < this.options.ttlMs) break;
      this.heldSlabs -= s.slabs.length;
      this.spares.push(...s.slabs);
      this.sessions.delete(id);
    }
    this.trimSpares();
  }

  /** Bytes handed to the garbage collector since the last call. */
  takeReleased(): number {
    const released = this.released;
    this.released = 0;
    return released;
  }

  /**
   * Spares beyond their allowance (a sixteenth of what is held, at most 64 MiB: none once the load
   * stopped), or beyond the bound with what is held, go to the collector.
   */
  private trimSpares(): void {
    const allowance = Math.min(SPARE_SLABS, Math.floor(this.heldSlabs / 16));
    const room = Math.max(0, Math.min(allowance, this.maxSlabs - this.heldSlabs));
    if (this.spares.length <= room) return;
    this.released += (this.spares.length - room) * SESSION_SLAB_BYTES;
    this.spares.length = room;
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Bytes the sessions hold (the spares not counted; they stay within the bound with them). */
  get bytes(): number {
    return this.heldSlabs * SESSION_SLAB_BYTES;
  }
}

export interface SutOptions {
  readonly defaults: WorkDefaults;
  readonly journal?: Journal;
  /** @default DEFAULT_SESSION_CACHE */
  readonly sessions?: SessionCacheOptions;
  /**
   * A full garbage collection (`global.gc`, the SUT runs with `--expose-gc`), asked for when the
   * cache let 16 MiB or more go in a second: an idle SUT allocates nothing, so nothing else would
   * collect what its expired sessions held, and its memory would not follow its load down.
   */
  readonly collect?: () => void;
}

/** Released bytes that make the SUT ask for a collection. */
const COLLECT_AFTER_BYTES = 16 * 1024 * 1024;

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
    () => ({ count: sessions.size, bytes: sessions.bytes }),
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
  const expiry = setInterval(() => {
    sessions.expire(Date.now());
    if (sessions.takeReleased() >= COLLECT_AFTER_BYTES && options.collect) {
      options.collect();
      sessions.discount();
    }
  }, 1000).unref();
  server.once("close", () => clearInterval(expiry));
  return { server, registry };
}
