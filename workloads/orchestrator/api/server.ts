import { createHash, timingSafeEqual } from "node:crypto";
import { open } from "node:fs/promises";
import {
  createServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { pipeline } from "node:stream/promises";
import { ConfigError } from "../../../tiers/config/issues.js";
import { TiersError } from "../../../tiers/errors.js";
import { escapeControls } from "../../../tiers/safe-text.js";

/** The API's server: HTTPS when given a certificate, plain HTTP only when asked for. */
export type Server = HttpServer | HttpsServer;

/** What the API serves; the orchestrator's environment implements it. */
export interface ApiService {
  health(): { readonly ok: boolean; readonly detail: Record<string, unknown> };
  /** Starts a cycle; throws `CycleConflict` when one is running, `ConfigError` for a bad plan. */
  trigger(body: unknown): { readonly cycle_id: string; readonly resumed: boolean };
  cycles(): readonly unknown[];
  cycle(id: string): unknown;
  exportBundle(cycleId: string): Promise<unknown>;
  bundles(): readonly unknown[];
  /** A bundle file to send, or undefined. */
  bundleFile(
    bundleId: string,
  ): { readonly path: string; readonly size: number; readonly name: string } | undefined;
  metrics(): string | Promise<string>;
  /** The environment's public signing key as a keyring line. */
  publicKey(): { readonly key_id: string; readonly keyring_line: string };
}

/** A trigger while a cycle runs: HTTP 409 with the running cycle's id. */
export class CycleConflict extends Error {
  constructor(readonly runningCycleId: string) {
    super(`a cycle is already running: ${runningCycleId}`);
  }
}

export interface ApiTimeouts {
  /** A client must send its request headers within this. @default 10 s */
  readonly headersMs?: number;
  /** … and its whole request within this. @default 30 s */
  readonly requestMs?: number;
  /** An idle kept-alive connection is closed after this. @default 5 s */
  readonly keepAliveMs?: number;
  /** A connection on which nothing moves (a stalled download) is closed after this. @default 120 s */
  readonly idleMs?: number;
  /** How often Node checks the first two. @default 1 s */
  readonly checkIntervalMs?: number;
}

export interface ApiOptions {
  /** The bearer token every request but /healthz and /metrics must carry. */
  readonly token: string;
  /** Largest request body accepted (HTTP 413 beyond). @default 4 MiB */
  readonly maxBodyBytes?: number;
  readonly timeouts?: ApiTimeouts;
  /**
   * Absolute paths of this server (data directory, config files, temp dir …) replaced in every
   * response by their label, so no answer reveals where the server keeps things.
   */
  readonly redact?: readonly { readonly path: string; readonly as: string }[];
  /** Where a failure the client is not told about is logged (default: stderr). */
  readonly log?: (line: string) => void;
  /**
   * Serve HTTPS with this certificate chain and key (PEM), TLS 1.3 only; without it the server
   * speaks plain HTTP (`--insecure-http`, or a test of the HTTP layer in process).
   */
  readonly tls?: { readonly cert: string; readonly key: string };
}

export const DEFAULT_MAX_BODY = 4 * 1024 * 1024;

/** The timeouts `ApiTimeouts` leaves unset (the README states them). */
export const DEFAULT_API_TIMEOUTS = {
  headersMs: 10_000,
  requestMs: 30_000,
  keepAliveMs: 5_000,
  idleMs: 120_000,
  checkIntervalMs: 1_000,
} as const satisfies Required<ApiTimeouts>;

/**
 * After a 413, what the client still sends is read and discarded up to this many times the body
 * limit (32 MiB at the default 4 MiB); beyond, its connection is closed.
 */
export const DRAIN_LIMIT_FACTOR = 8;

type Redact = NonNullable<ApiOptions["redact"]>;

/** Every string of a JSON value with the server's own paths replaced by their labels. */
function redacted(value: unknown, redact: Redact): unknown {
  if (redact.length === 0) return value;
  if (typeof value === "string")
    return redact.reduce((s, r) => (r.path.length > 1 ? s.split(r.path).join(r.as) : s), value);
  if (Array.isArray(value)) return value.map((v) => redacted(v, redact));
  if (value !== null && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redacted(v, redact)]));
  return value;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(redacted(body, redactOf(res)))}\n`;
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

function digest(s: string): Buffer {
  return createHash("sha256").update(s).digest();
}

function authorized(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization ?? "";
  const m = /^Bearer (.+)$/.exec(header);
  return m !== null && timingSafeEqual(digest(m[1]!), digest(token));
}

class TooLarge extends Error {}

function drain(req: IncomingMessage, bound: number): Promise<void> {
  return new Promise((resolve) => {
    if (req.readableEnded) return resolve();
    let seen = 0;
    req.on("data", (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > bound) {
        req.socket.destroy();
        resolve();
      }
    });
    req.once("end", () => resolve());
    req.once("close", () => resolve());
    req.resume();
  });
}

/** A request whose declared Content-Length is beyond the limit: answered 413 before a byte is read. */
class DeclaredTooLarge extends TooLarge {}

function readBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > limit) return Promise.reject(new DeclaredTooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        req.off("data", onData);
        req.pause();
        reject(new TooLarge());
        return;
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.once("error", reject);
    req.once("end", () => {
      if (size > limit) return;
      try {
        resolve(size === 0 ? {} : (JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown));
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  });
}

/**
 * The orchestrator's HTTP API (bound to the environment's own network; bearer token):
 *
 * | method | path | |
 * | --- | --- | --- |
 * | GET | /healthz, /readyz | liveness and readiness (the store is open, the runtime started), no token |
 * | GET | /metrics | Prometheus metrics, no token (scraped inside the environment's network) |
 * | POST | /v1/cycles | trigger a cycle (`{plan?, resume?}`); 202, 409 with the running id, 400 for a bad plan |
 * | GET | /v1/cycles, /v1/cycles/:id | list; status with live progress |
 * | POST | /v1/cycles/:id/bundle | export the cycle's bundle |
 * | GET | /v1/bundles, /v1/bundles/:id | list; download (application/gzip) |
 * | GET | /v1/key | the environment's public signing key as a keyring line, for the centre |
 */
export function createApiServer(service: ApiService, options: ApiOptions): Server {
  const limit = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const t = options.timeouts ?? {};
  const log = options.log ?? ((line: string) => process.stderr.write(`${escapeControls(line)}\n`));
  const redact = [...(options.redact ?? [])].sort((a, b) => b.path.length - a.path.length);
  const httpOptions = {
    headersTimeout: t.headersMs ?? DEFAULT_API_TIMEOUTS.headersMs,
    requestTimeout: t.requestMs ?? DEFAULT_API_TIMEOUTS.requestMs,
    keepAliveTimeout: t.keepAliveMs ?? DEFAULT_API_TIMEOUTS.keepAliveMs,
    connectionsCheckingInterval: t.checkIntervalMs ?? DEFAULT_API_TIMEOUTS.checkIntervalMs,
  };
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    REDACT.set(res, redact);
    handle(req, res).catch((error: unknown) => {
      // The detail goes to the log, never to the client (it may name paths or internals).
      log(`orchestrator API: ${req.method} ${req.url}: ${(error as Error)?.stack ?? String(error)}`);
      if (!res.headersSent) send(res, 500, { error: "internal error" });
      else res.destroy();
    });
  };
  const server: Server = options.tls
    ? createHttpsServer(
        { ...httpOptions, cert: options.tls.cert, key: options.tls.key, minVersion: "TLSv1.3" },
        onRequest,
      )
    : createServer(httpOptions, onRequest);
  server.timeout = t.idleMs ?? DEFAULT_API_TIMEOUTS.idleMs;
  return server;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://localhost");
    } catch {
      return send(res, 400, { error: "the request target is not a URL path" });
    }
    const path = url.pathname.replace(/\/+$/, "") || "/";
    if (req.method === "GET" && (path === "/healthz" || path === "/readyz")) {
      const h = service.health();
      return send(res, h.ok ? 200 : 503, { status: h.ok ? "ok" : "unhealthy", ...h.detail });
    }
    if (req.method === "GET" && path === "/metrics") {
      const text = await service.metrics();
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
      res.end(text);
      return;
    }
    if (!authorized(req, options.token)) {
      res.setHeader("www-authenticate", 'Bearer realm="test-tiers orchestrator"');
      return send(res, 401, { error: "missing or wrong bearer token" });
    }
    if (req.method === "POST" && path === "/v1/cycles") {
      let body: unknown;
      try {
        body = await readBody(req, limit);
      } catch (error) {
        if (error instanceof TooLarge) {
          const answer = () => send(res, 413, { error: `request body larger than ${limit} bytes` });
          // A declared length beyond the limit is answered at once, before a byte of the body is
          // read; what the client still sends is then read and discarded up to a bound (a
          // lingering close, as nginx does), so a client busy uploading still reads the 413
          // instead of a reset. A body found too large only while reading it is drained first.
          if (error instanceof DeclaredTooLarge) {
            answer();
            return drain(req, DRAIN_LIMIT_FACTOR * limit);
          }
          await drain(req, DRAIN_LIMIT_FACTOR * limit);
          res.setHeader("connection", "close");
          return answer();
        }
        return send(res, 400, { error: `request body is not JSON: ${(error as Error).message}` });
      }
      try {
        return send(res, 202, service.trigger(body));
      } catch (error) {
        if (error instanceof CycleConflict) {
          return send(res, 409, { error: error.message, running_cycle_id: error.runningCycleId });
        }
        if (error instanceof ConfigError) {
          return send(res, 400, { error: error.shortMessage, problems: error.details });
        }
        if (error instanceof TiersError) return send(res, 400, { error: error.message });
        throw error;
      }
    }
    if (req.method === "GET" && path === "/v1/cycles") return send(res, 200, { cycles: service.cycles() });
    if (req.method === "GET" && path === "/v1/key") return send(res, 200, service.publicKey());
    const cycleMatch = /^\/v1\/cycles\/([^/]+)(\/bundle)?$/.exec(path);
    if (cycleMatch) {
      const id = decodeSegment(cycleMatch[1]!);
      if (id === undefined) return send(res, 400, { error: "malformed percent-encoding in the path" });
      if (req.method === "GET" && !cycleMatch[2]) {
        const c = service.cycle(id);
        return c === undefined ? send(res, 404, { error: `no cycle ${id}` }) : send(res, 200, c);
      }
      if (req.method === "POST" && cycleMatch[2]) {
        if (service.cycle(id) === undefined) return send(res, 404, { error: `no cycle ${id}` });
        try {
          return send(res, 201, await service.exportBundle(id));
        } catch (error) {
          if (error instanceof TiersError) return send(res, 409, { error: error.message });
          throw error;
        }
      }
    }
    if (req.method === "GET" && path === "/v1/bundles") return send(res, 200, { bundles: service.bundles() });
    const bundleMatch = /^\/v1\/bundles\/([^/]+)$/.exec(path);
    if (req.method === "GET" && bundleMatch) {
      const id = decodeSegment(bundleMatch[1]!);
      if (id === undefined) return send(res, 400, { error: "malformed percent-encoding in the path" });
      return sendBundle(res, id);
    }
    return send(res, 404, { error: `no route ${req.method} ${path}` });
  }

  /**
   * Streams a bundle file with `pipeline`: opened first (a file gone meanwhile is a 404, not a
   * crash), its length from the open descriptor; a read error or a client that goes away ends the
   * response and closes the descriptor, and `serve` carries on.
   */
  async function sendBundle(res: ServerResponse, id: string): Promise<void> {
    const file = service.bundleFile(id);
    const handle = file ? await open(file.path, "r").catch(() => undefined) : undefined;
    const info = handle ? await handle.stat().catch(() => undefined) : undefined;
    if (!file || !handle || !info?.isFile()) {
      await handle?.close();
      return send(res, 404, { error: `no bundle ${id}` });
    }
    res.writeHead(200, {
      "content-type": "application/gzip",
      "content-length": info.size,
      "content-disposition": `attachment; filename="${file.name.replace(/[^A-Za-z0-9._-]/g, "_")}"`,
    });
    try {
      await pipeline(handle.createReadStream(), res);
    } catch (error) {
      if (!res.destroyed) res.destroy();
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "ERR_STREAM_PREMATURE_CLOSE")
        log(`orchestrator API: sending bundle ${id}: ${(error as Error).message}`);
    } finally {
      await handle.close().catch(() => undefined);
    }
  }
}

const REDACT = new WeakMap<ServerResponse, Redact>();
const redactOf = (res: ServerResponse): Redact => REDACT.get(res) ?? [];

/** One path segment, percent-decoded; undefined when its encoding is malformed. */
function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** Listens on host:port (port 0 = any free port) and resolves with the bound port. */
export function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
