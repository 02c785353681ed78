import { createHash, timingSafeEqual } from "node:crypto";
import { createReadStream } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ConfigError } from "../../../tiers/config/issues.js";
import { TiersError } from "../../../tiers/errors.js";

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
  metrics(): string;
  /** The environment's public signing key as a keyring line. */
  publicKey(): { readonly key_id: string; readonly keyring_line: string };
}

/** A trigger while a cycle runs: HTTP 409 with the running cycle's id. */
export class CycleConflict extends Error {
  constructor(readonly runningCycleId: string) {
    super(`a cycle is already running: ${runningCycleId}`);
  }
}

export interface ApiOptions {
  /** The bearer token every request but /healthz and /metrics must carry. */
  readonly token: string;
  /** Largest request body accepted (HTTP 413 beyond). @default 4 MiB */
  readonly maxBodyBytes?: number;
}

const DEFAULT_MAX_BODY = 4 * 1024 * 1024;

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
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

function readBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > limit) return Promise.reject(new TooLarge());
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
  return createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, { error: "internal error", detail: (error as Error).message });
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = url.pathname.replace(/\/+$/, "") || "/";
    if (req.method === "GET" && (path === "/healthz" || path === "/readyz")) {
      const h = service.health();
      return send(res, h.ok ? 200 : 503, { status: h.ok ? "ok" : "unhealthy", ...h.detail });
    }
    if (req.method === "GET" && path === "/metrics") {
      const text = service.metrics();
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
          // Read and discard what the client still sends (up to a bound) before answering, so it
          // gets the 413 instead of a closed socket mid-upload.
          await drain(req, 8 * limit);
          res.setHeader("connection", "close");
          return send(res, 413, { error: `request body larger than ${limit} bytes` });
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
      const id = decodeURIComponent(cycleMatch[1]!);
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
      const file = service.bundleFile(decodeURIComponent(bundleMatch[1]!));
      if (!file) return send(res, 404, { error: `no bundle ${bundleMatch[1]}` });
      res.writeHead(200, {
        "content-type": "application/gzip",
        "content-length": file.size,
        "content-disposition": `attachment; filename="${file.name}"`,
      });
      createReadStream(file.path).pipe(res);
      return;
    }
    return send(res, 404, { error: `no route ${req.method} ${path}` });
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
