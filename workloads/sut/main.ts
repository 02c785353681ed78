/**
 * The sample SUT's entry: `node --import tsx workloads/sut/main.ts --port N [--host 127.0.0.1]
 * [--storage DIR] [--cpu-ms N] [--delay-ms N] [--error-rate X] [--bytes N] [--memory-bytes N] [--cores X]
 * [--session-ttl-ms N] [--exit-with-parent]`. `--memory-bytes` and `--cores` are the share of the
 * machine the SUT is granted (its environment's): its session cache is sized from them
 * (`sessionCacheFor`). Prints one JSON line
 * `{"event":"listening","host":…,"port":…,"pid":…}` when it accepts connections (port 0 picks a
 * free one); exits 0 on SIGTERM/SIGINT, 1 when it cannot listen, 2 on bad arguments.
 */
import { parseArgs } from "node:util";
import { createSut, DEFAULT_SHARE, sessionCacheFor, type WorkDefaults } from "./server.js";
import { Journal } from "./storage.js";

function fail(message: string, code: number): never {
  process.stderr.write(`${JSON.stringify({ event: "error", message })}\n`);
  process.exit(code);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      port: { type: "string" },
      host: { type: "string", default: "127.0.0.1" },
      storage: { type: "string" },
      "cpu-ms": { type: "string", default: "0" },
      "delay-ms": { type: "string", default: "0" },
      "error-rate": { type: "string", default: "0" },
      bytes: { type: "string", default: "0" },
      "memory-bytes": { type: "string", default: String(DEFAULT_SHARE.memoryBytes) },
      cores: { type: "string", default: String(DEFAULT_SHARE.cores) },
      "session-ttl-ms": { type: "string", default: "2000" },
      "exit-with-parent": { type: "boolean", default: false },
    },
    strict: true,
  }));
} catch (error) {
  fail((error as Error).message, 2);
}

function numberArg(name: string, text: string | undefined, min: number, max: number): number {
  const n = Number(text);
  if (text === undefined || text.trim() === "" || !Number.isFinite(n) || n < min || n > max)
    fail(`--${name}: expected a number from ${min} to ${max} (got ${JSON.stringify(text ?? null)})`, 2);
  return n;
}

const port = numberArg("port", values.port, 0, 65535);
const defaults: WorkDefaults = {
  cpuMs: numberArg("cpu-ms", values["cpu-ms"], 0, 10_000),
  delayMs: numberArg("delay-ms", values["delay-ms"], 0, 60_000),
  errorRate: numberArg("error-rate", values["error-rate"], 0, 1),
  bytes: numberArg("bytes", values.bytes, 0, 1_048_576),
};
const sessions = sessionCacheFor(
  {
    memoryBytes: numberArg("memory-bytes", values["memory-bytes"], 1, 2 ** 50),
    cores: numberArg("cores", values.cores, 0.001, 4096),
  },
  numberArg("session-ttl-ms", values["session-ttl-ms"], 1, 3_600_000),
);
// With --expose-gc (the supervisor starts it so) the SUT collects what its expired sessions held.
const gc = globalThis.gc;
const collect =
  typeof gc === "function"
    ? (): void => {
        void gc();
      }
    : undefined;
const journal = values.storage === undefined ? undefined : new Journal(values.storage);
const storageProblem = await journal?.init();
if (storageProblem)
  process.stderr.write(`${JSON.stringify({ event: "storage_unavailable", message: storageProblem })}\n`);

const { server } = createSut({
  defaults,
  sessions,
  ...(collect ? { collect } : {}),
  ...(journal ? { journal } : {}),
});
server.once("error", (error) => fail(`cannot listen on ${values.host}:${port}: ${error.message}`, 1));
server.listen(port, values.host, () => {
  const address = server.address();
  const actual = typeof address === "object" && address ? address.port : port;
  process.stdout.write(
    `${JSON.stringify({ event: "listening", host: values.host, port: actual, pid: process.pid })}\n`,
  );
});

const shutdown = (): void => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.once("SIGTERM", shutdown);
process.once("SIGINT", shutdown);

// Supervised: when the supervisor dies (even by SIGKILL), the SUT is re-parented and goes too,
// so a crashed orchestrator leaves no SUT behind.
if (values["exit-with-parent"]) {
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) shutdown();
  }, 500).unref();
}
