/**
 * Every loader of a file a user points at — suite, stack file, orchestrator config, keyring, API
 * token, plan — refuses the same classes of bad file the same way, each with one exact message:
 * not a regular file (never waited on), too large (refused before it is read), not UTF-8 (with
 * the byte's position), and every problem of a file at once. Numbers are checked before anything
 * is created on disk.
 */
import { chmod, mkdir, readdir, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../tiers/config/issues.js";
import { firstInvalidUtf8, MAX_PLAN_BYTES, readTextFile } from "../../tiers/config/read-file.js";
import { readYamlFile } from "../../tiers/config/yaml-source.js";
import { loadSuiteFile } from "../../tiers/plan/suite-file.js";
import { captureStack } from "../../runners/infra/capture.js";
import { readStackFileConfig } from "../../runners/infra/stack-file.js";
import { StackConfigSpec } from "../../stacks/config/schema.js";
import { pollMsFrom } from "../../runners/cli/commands/central-import.js";
import { loadKeyring } from "../../workloads/bundle/keyring.js";
import { loadOrchestratorConfig } from "../../workloads/orchestrator/config.js";
import { readPlanJson } from "../../workloads/orchestrator/plan-input.js";
import { tempDir } from "../support/temp.js";

const ORCHESTRATOR = join(import.meta.dirname, "..", "..", "bin", "orchestrator.js");

let dir: Awaited<ReturnType<typeof tempDir>>;
const at = (name: string) => join(dir.path, name);

beforeAll(async () => {
  dir = await tempDir();
  await execa("mkfifo", [at("fifo.yaml")]);
  await mkdir(at("dir.yaml"));
  await writeFile(at("huge.yaml"), "");
  await truncate(at("huge.yaml"), MAX_PLAN_BYTES + 1); // sparse, beyond every bound: refused by its size, never read
  await writeFile(
    at("latin1.yaml"),
    Buffer.concat([Buffer.from("test_suites:\n  caf"), Buffer.from([0xe9]), Buffer.from(": {}\n")]),
  );
});
afterAll(() => dir?.remove());

/** Every file loader, as a function giving the lines its error prints. */
const LOADERS: [string, (file: string) => unknown][] = [
  ["suite file", (f) => loadSuiteFile(f)],
  [
    "stack file",
    (f) => {
      const r = readStackFileConfig(f);
      if (r.config === undefined) throw new ConfigError(r.issues);
      return r;
    },
  ],
  ["orchestrator config", (f) => loadOrchestratorConfig(f, {}, {}, false)],
  ["plan file", (f) => readPlanJson(f)],
];

function messageOf(load: () => unknown): string {
  try {
    load();
  } catch (error) {
    return error instanceof ConfigError ? error.details.join("\n") : (error as Error).message;
  }
  throw new Error("the load did not fail");
}

describe.each(LOADERS)("the %s loader", (_name, load) => {
  it("refuses a FIFO at once instead of waiting for a writer", () => {
    expect(messageOf(() => load(at("fifo.yaml")))).toBe(
      `${at("fifo.yaml")} (file): is a FIFO (named pipe), not a regular file (expected a regular file)`,
    );
  });

  it("refuses a directory", () => {
    expect(messageOf(() => load(at("dir.yaml")))).toBe(
      `${at("dir.yaml")} (file): is a directory, not a regular file (expected a regular file)`,
    );
  });

  it("refuses a device", () => {
    expect(messageOf(() => load("/dev/zero"))).toBe(
      "/dev/zero (file): is a character device, not a regular file (expected a regular file)",
    );
  });

  it("refuses a file over its bound before reading it", () => {
    const message = messageOf(() => load(at("huge.yaml")));
    expect(message).toMatch(
      new RegExp(
        `^${at("huge.yaml")} \\(file\\): file is too large for this kind of file \\(got ${MAX_PLAN_BYTES + 1} bytes, expected at most \\d+ bytes\\)$`,
      ),
    );
  });

  it("refuses invalid UTF-8 with the byte's position", () => {
    expect(messageOf(() => load(at("latin1.yaml")))).toBe(
      `${at("latin1.yaml")}:2:6 (file): not UTF-8: the byte at offset 18 is 0xe9 (expected a UTF-8 text file)`,
    );
  });
});

describe("the keyring and the API token", () => {
  it("refuses a keyring that is a FIFO, and one that is not UTF-8, saying where", async () => {
    await expect(loadKeyring(at("fifo.yaml"))).rejects.toThrow(
      `keyring ${at("fifo.yaml")} cannot be read (is a FIFO (named pipe), not a regular file);`,
    );
    await expect(loadKeyring(at("latin1.yaml"))).rejects.toThrow(
      `keyring ${at("latin1.yaml")} cannot be read (not UTF-8: the byte at offset 18 is 0xe9 at line 2, column 6);`,
    );
  });

  it.each([
    [0o640, "0640"],
    [0o604, "0604"],
    [0o660, "0660"],
  ])("refuses a token file of mode %o", async (mode, shown) => {
    const token = at(`token-${shown}`);
    await writeFile(token, "t".repeat(40));
    await chmod(token, mode);
    expect(
      messageOf(() =>
        loadOrchestratorConfig(undefined, {
          TIERS_API_TOKEN_FILE: token,
          TIERS_ENVIRONMENT: "env-1",
          TIERS_DATA_DIR: dir.path,
        }),
      ),
    ).toBe(
      `environment TIERS_API_TOKEN_FILE: token file ${token} is readable or writable by its group or others (mode ${shown}); run chmod 600 ${token} (got ${shown}, expected 0600 or 0400)`,
    );
  });

  it("reads a 0600 token file, and refuses a token file that is a FIFO", async () => {
    const token = at("token-ok");
    await writeFile(token, `${"t".repeat(40)}\n`, { mode: 0o600 });
    const env = { TIERS_ENVIRONMENT: "env-1", TIERS_DATA_DIR: dir.path };
    expect(loadOrchestratorConfig(undefined, { ...env, TIERS_API_TOKEN_FILE: token }).api_token).toBe(
      "t".repeat(40),
    );
    expect(messageOf(() => loadOrchestratorConfig(undefined, env, { api_token_file: at("fifo.yaml") }))).toBe(
      `command line --token-file: ${at("fifo.yaml")}: is a FIFO (named pipe), not a regular file (expected a regular file)`,
    );
  });
});

describe("every problem of a file at once", () => {
  it("names each unknown key of a stack file, top level and config, in one report", async () => {
    const file = at("Pulumi.multi.yaml");
    await writeFile(
      file,
      "confg: {}\nsecrets: x\nconfig:\n  test-tiers:tier: base\n  test-tiers:tire: 1\n  test-tiers:sizes: 2\n",
    );
    const top = "expected config, secretsprovider, encryptedkey or encryptionsalt";
    const known = `expected one of ${Object.keys(StackConfigSpec.shape).join(", ")}`;
    // The file alone: its top-level keys, and a config the program still checks.
    const read = readStackFileConfig(file);
    expect(read.issues.map((i) => `${i.line}:${i.col} ${i.path}: ${i.message}`)).toStrictEqual([
      "1:1 confg: unknown key of a stack file",
      "2:1 secrets: unknown key of a stack file",
    ]);
    expect(read.config).toBeDefined();
    // Through the harness, as the CLI runs it: all four in one error, nothing registered.
    const graph = await captureStack("multi", { stackFile: file });
    expect(graph.ok).toBe(false);
    expect(graph.error?.message.split("\n")).toStrictEqual([
      `invalid stack configuration in ${file}`,
      `  ${file}:1:1 confg: unknown key of a stack file (got "confg", ${top})`,
      `  ${file}:2:1 secrets: unknown key of a stack file (got "secrets", ${top})`,
      `  ${file}:5:3 test-tiers:tire: unknown key (got "test-tiers:tire", ${known})`,
      `  ${file}:6:3 test-tiers:sizes: unknown key (got "test-tiers:sizes", ${known})`,
    ]);
    expect(graph.resources).toStrictEqual([]);
  }, 120_000);

  it("names each unknown key and bad value of an orchestrator config in one report", async () => {
    const file = at("orchestrator.yaml");
    await writeFile(
      file,
      "environment: env-1\ndata_dir: d\nlisten: 127.0.0.1:99999\nport: 1\nsut: {mode: local, cpu_ms: -1}\nextra: true\n",
    );
    expect(messageOf(() => loadOrchestratorConfig(file, {}, {}, false)).split("\n")).toStrictEqual([
      `${file}:3:9 listen: the port is out of range (got "127.0.0.1:99999", expected host:port with a port from 0 to 65535 (0: any free port))`,
      `${file}:4:1 port: unknown key (got "port", expected one of environment, data_dir, listen, api_token, api_token_file, signing_key_file, plan_file, sut, iperf3_server, region_latency_ms, load_workers, load_job_image, load_job_max_workers, load_worker_capacity_rps, load_job_start_s, load_worker_service_account, environment_file, tls_cert_file, tls_key_file, insecure_http, faults, otlp_endpoint)`,
      `${file}:5:28 sut.cpu_ms: too small (got -1, expected a value >= 0)`,
      `${file}:6:1 extra: unknown key (got "extra", expected one of environment, data_dir, listen, api_token, api_token_file, signing_key_file, plan_file, sut, iperf3_server, region_latency_ms, load_workers, load_job_image, load_job_max_workers, load_worker_capacity_rps, load_job_start_s, load_worker_service_account, environment_file, tls_cert_file, tls_key_file, insecure_http, faults, otlp_endpoint)`,
    ]);
  });
});

describe("numbers are checked before anything is created", () => {
  it("orchestrator serve --listen 127.0.0.1:99999 exits 3 and makes no data directory, no key", async () => {
    const data = at("serve-data");
    const token = at("serve-token");
    await writeFile(token, "s".repeat(40), { mode: 0o600 });
    const run = await execa(
      process.execPath,
      [
        ORCHESTRATOR,
        "serve",
        "--env",
        "env-1",
        "--data-dir",
        data,
        "--token-file",
        token,
        "--listen",
        "127.0.0.1:99999",
      ],
      { reject: false },
    );
    expect(run.exitCode).toBe(3);
    expect(run.stderr).toBe(
      'error: invalid orchestrator config\n  command line --listen: the port is out of range (got "127.0.0.1:99999", expected host:port with a port from 0 to 65535 (0: any free port))',
    );
    expect((await readdir(dir.path)).includes("serve-data")).toBe(false);
  });

  it.each([
    ["abc", '"abc"'],
    ["10", '"10"'],
    ["3600001", '"3600001"'],
  ])("tiers central import --poll-ms %s is refused with its value", (raw, shown) => {
    expect(messageOf(() => pollMsFrom(raw))).toBe(
      `command line --poll-ms: not a poll interval (got ${shown}, expected an integer number of milliseconds from 50 to 3600000)`,
    );
  });
});

describe("the UTF-8 check", () => {
  it.each<[string, number[], number]>([
    ["valid multi-byte text", [0x63, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80], -1],
    ["a lone continuation byte", [0x61, 0x80], 1],
    ["an overlong encoding of /", [0xc0, 0xaf], 0],
    ["an encoded surrogate", [0xed, 0xa0, 0x80], 0],
    ["a sequence cut short at the end", [0x61, 0xe2, 0x82], 1],
    ["a code point beyond U+10FFFF", [0xf4, 0x90, 0x80, 0x80], 0],
  ])("finds the first bad byte of %s", (_what, bytes, at) => {
    expect(firstInvalidUtf8(Uint8Array.from(bytes))).toBe(at);
    // The same verdict as the platform's strict decoder.
    let strict = true;
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(bytes));
    } catch {
      strict = false;
    }
    expect(strict).toBe(at === -1);
  });

  it("reads a good file whole", async () => {
    await writeFile(at("good.yaml"), "options:\n  seed: 3\n");
    expect(readTextFile(at("good.yaml"), { maxBytes: 100 })).toStrictEqual({
      text: "options:\n  seed: 3\n",
      issues: [],
    });
    expect(readYamlFile(at("good.yaml")).issues).toStrictEqual([]);
  });
});
