/**
 * The orchestrator's HTTP server against hostile or broken clients, in process with a stand-in
 * service (the real `serve` process is api.test.ts): malformed paths, oversized declared bodies,
 * slow clients, downloads that fail or are abandoned, and answers that must not name server paths.
 */
import { readdirSync, readlinkSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import type { Server } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TiersError } from "../../../tiers/errors.js";
import { createApiServer, listen, type ApiService } from "../../../workloads/orchestrator/api/server.js";
import { tempDir } from "../../support/temp.js";

const TOKEN = "t".repeat(40);
let dir: Awaited<ReturnType<typeof tempDir>>;
let server: Server;
let port: number;
const logged: string[] = [];

function service(): ApiService {
  const files: Record<string, string> = {
    big: join(dir.path, "big.tar.gz"),
    eio: "/proc/self/mem", // opens, then every read fails with EIO
    gone: join(dir.path, "never-written.tar.gz"),
  };
  return {
    health: () => ({ ok: true, detail: {} }),
    trigger: () => {
      throw new Error(`cannot open ${dir.path}/env.db: disk on fire`);
    },
    cycles: () => [],
    cycle: (id) => (id === "c1" ? { cycle_id: "c1" } : undefined),
    exportBundle: () =>
      Promise.reject(
        new TiersError(6, `environment storage ${dir.path}/data/env.db: cannot write: the disk is full`),
      ),
    bundles: () => [],
    bundleFile: (id) => (files[id] ? { path: files[id], size: 1, name: `${id}.tar.gz` } : undefined),
    metrics: () => "",
    publicKey: () => ({ key_id: "k", keyring_line: "l" }),
  };
}

beforeAll(async () => {
  dir = await tempDir();
  await writeFile(join(dir.path, "big.tar.gz"), Buffer.alloc(32 * 1024 * 1024, 7));
  server = createApiServer(service(), {
    token: TOKEN,
    maxBodyBytes: 1024,
    redact: [{ path: dir.path, as: "<data-dir>" }],
    timeouts: { headersMs: 400, requestMs: 800, checkIntervalMs: 100 },
    log: (line) => logged.push(line),
  });
  port = await listen(server, "127.0.0.1", 0);
});
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await dir?.remove();
});

const get = (path: string, init: RequestInit = {}) =>
  fetch(`http://127.0.0.1:${port}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${TOKEN}`, ...init.headers },
  });

/** Writes raw bytes on a new connection and resolves with everything the server sent until it closed or `untilMs`. */
function raw(bytes: string, untilMs = 3000): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket: Socket = connect(port, "127.0.0.1");
    let text = "";
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, closed: false });
    }, untilMs);
    socket.on("data", (d: Buffer) => (text += d.toString("latin1")));
    socket.on("close", () => {
      clearTimeout(timer);
      resolve({ text, closed: true });
    });
    socket.on("error", () => undefined);
    socket.write(bytes);
  });
}

/** Descriptors this process holds open on `file` (the server's side of a download). */
const openOn = (file: string) =>
  readdirSync("/proc/self/fd").filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === file;
    } catch {
      return false;
    }
  }).length;

describe("malformed requests", () => {
  it.each(["/v1/cycles/%E0%A4%A", "/v1/cycles/%ZZ/bundle", "/v1/bundles/%C3%28x%"])(
    "answers malformed percent-encoding in %s with 400, not 500",
    async (path) => {
      const res = await get(path, { method: path.endsWith("bundle") ? "POST" : "GET" });
      expect(res.status).toBe(400);
      expect(await res.json()).toStrictEqual({ error: "malformed percent-encoding in the path" });
    },
  );

  it("answers a declared Content-Length over the limit with 413 at once, before any body byte", async () => {
    const { text } = await raw(
      `POST /v1/cycles HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${TOKEN}\r\ncontent-type: application/json\r\ncontent-length: 10000000000\r\n\r\n`,
      1500,
    );
    expect(text.split("\r\n")[0]).toBe("HTTP/1.1 413 Payload Too Large");
    expect(text).toContain('{"error":"request body larger than 1024 bytes"}');
  });

  it("closes a connection whose headers never finish (header timeout)", async () => {
    const { text, closed } = await raw(`GET /healthz HTTP/1.1\r\nhost: x\r\nx-slow: `, 5000);
    expect(closed).toBe(true);
    expect(text.split("\r\n")[0]).toBe("HTTP/1.1 408 Request Timeout");
  });

  it("closes a connection whose body never finishes (request timeout)", async () => {
    const { text, closed } = await raw(
      `POST /v1/cycles HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${TOKEN}\r\ncontent-length: 100\r\n\r\n{"pl`,
      5000,
    );
    expect(closed).toBe(true);
    expect(text.split("\r\n")[0]).toBe("HTTP/1.1 408 Request Timeout");
  });
});

describe("bundle downloads", () => {
  it("survives a read error mid-download and leaks no descriptor", async () => {
    const mem = `/proc/${process.pid}/mem`;
    for (let i = 0; i < 5; i++)
      await expect(get("/v1/bundles/eio").then((r) => r.arrayBuffer())).rejects.toThrow();
    expect((await get("/healthz")).status).toBe(200);
    await new Promise((r) => setTimeout(r, 100));
    expect(openOn(mem)).toBe(0);
    expect(logged.filter((l) => l.includes("sending bundle eio")).length).toBe(5);
  });

  it("survives clients that go away mid-download and leaks no descriptor", async () => {
    const big = join(dir.path, "big.tar.gz");
    for (let i = 0; i < 10; i++) {
      const { text } = await raw(
        `GET /v1/bundles/big HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${TOKEN}\r\n\r\n`,
        150,
      );
      expect(text.startsWith("HTTP/1.1 200 OK")).toBe(true);
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(openOn(big)).toBe(0);
    const whole = await get("/v1/bundles/big");
    expect((await whole.arrayBuffer()).byteLength).toBe(32 * 1024 * 1024);
  });

  it("answers 404 for a bundle whose file is gone", async () => {
    const res = await get("/v1/bundles/gone");
    expect(res.status).toBe(404);
    expect(await res.json()).toStrictEqual({ error: "no bundle gone" });
  });
});

describe("answers name no server path", () => {
  it("replaces the data directory in an error the client is told about", async () => {
    const res = await get("/v1/cycles/c1/bundle", { method: "POST" });
    expect(res.status).toBe(409);
    const text = await res.text();
    expect(text).toBe(
      '{"error":"environment storage <data-dir>/data/env.db: cannot write: the disk is full"}\n',
    );
  });

  it("says only 'internal error' for an unexpected failure, and logs the detail", async () => {
    const res = await get("/v1/cycles", { method: "POST", body: "{}" });
    expect(res.status).toBe(500);
    expect(await res.text()).toBe('{"error":"internal error"}\n');
    expect(logged.some((l) => l.includes(`cannot open ${dir.path}/env.db: disk on fire`))).toBe(true);
  });
});
