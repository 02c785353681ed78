import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  formatKeyringLine,
  loadKeyring,
  parseKeyring,
  type Keyring,
} from "../../../workloads/bundle/keyring.js";
import { loadSigningKey } from "../../../workloads/bundle/keys.js";
import { openBundle, verifyBundle } from "../../../workloads/bundle/reader.js";
import { BundleWriter } from "../../../workloads/bundle/writer.js";
import { writeCycleBundle, makeKeys, type TestEnvironmentKeys } from "../../support/bundles.js";
import { generateCycle } from "../../support/cycle-data.js";
import { tempDir } from "../../support/temp.js";

let dir: Awaited<ReturnType<typeof tempDir>>;
let keys: TestEnvironmentKeys;
let keyring: Keyring;
const gen = generateCycle({ tier: "chaos", seed: 3, cycleId: "c-rt" });

beforeAll(async () => {
  dir = await tempDir();
  keys = await makeKeys(dir.path);
  keyring = await loadKeyring(keys.keyringPath);
});
afterAll(() => dir.remove());

const sha256 = async (path: string) =>
  createHash("sha256")
    .update(await readFile(path))
    .digest("hex");

describe("bundle writer → reader round trip", () => {
  it("reads back exactly what was written", async () => {
    const written = await writeCycleBundle(gen, keys.key, join(dir.path, "rt"));
    expect(written.path).toBe(join(dir.path, "rt", "env-1-c-rt.tar.gz"));
    const bundle = await openBundle(written.path, { keyring });
    try {
      expect(bundle.manifest).toStrictEqual(written.manifest);
      expect(bundle.manifest.counts).toStrictEqual({
        results: gen.results.length,
        samples: gen.sampleCount,
        events: gen.events.length,
      });
      expect(bundle.cycle).toStrictEqual(gen.summary);
      expect(await bundle.readResults()).toStrictEqual(gen.results);
      expect(await bundle.readEvents()).toStrictEqual(gen.events);
      const samples = [];
      for await (const batch of bundle.sampleBatches()) samples.push(...batch);
      expect(samples).toStrictEqual([...gen.samples()]);
      const first = gen.results[0]!;
      expect((await bundle.readRaw(first.raw.stdout!)).toString()).toBe(
        gen.raw.get(`${first.result_id}.stdout`),
      );
    } finally {
      await bundle.close();
    }
  });

  it("is deterministic: the same cycle, id and time give the same bytes", async () => {
    const a = await writeCycleBundle(gen, keys.key, join(dir.path, "det-a"));
    const b = await writeCycleBundle(gen, keys.key, join(dir.path, "det-b"));
    expect(await sha256(a.path)).toBe(await sha256(b.path));
  });

  it("is a plain tar.gz that GNU tar lists in a fixed order and openssl verifies", async () => {
    const written = await writeCycleBundle(gen, keys.key, join(dir.path, "interop"));
    const { stdout } = await execa("tar", ["-tvzf", written.path]);
    const lines = stdout.split("\n");
    const names = lines.map((l) => l.split(/\s+/).at(-1));
    const raws = written.manifest.files.map((f) => f.path).filter((p) => p.startsWith("raw/"));
    expect(names).toStrictEqual([
      "manifest.json",
      "manifest.sig",
      "cycle.json",
      "events.ndjson",
      ...raws,
      "results.ndjson",
      "samples.ndjson",
    ]);
    expect(lines.every((l) => l.startsWith("-rw-r--r-- 0/0"))).toBe(true);
    const out = join(dir.path, "interop", "x");
    await execa("mkdir", ["-p", out]);
    await execa("tar", ["-xzf", written.path, "-C", out]);
    for (const f of written.manifest.files) expect(await sha256(join(out, f.path))).toBe(f.sha256);
    await execa("openssl", [
      "pkey",
      "-in",
      join(dir.path, "env-key.pem"),
      "-pubout",
      "-out",
      join(out, "pub.pem"),
    ]);
    const verified = await execa("openssl", [
      "pkeyutl",
      "-verify",
      "-pubin",
      "-inkey",
      join(out, "pub.pem"),
      "-rawin",
      "-in",
      join(out, "manifest.json"),
      "-sigfile",
      join(out, "manifest.sig"),
    ]);
    expect(verified.stdout).toBe("Signature Verified Successfully");
  });

  // A child process with a 64 MB V8 heap writes a million samples (~70 MB of JSON): it can only
  // finish if the writer streams. The control run keeps the lines itself and must run out of heap.
  const writeMillion = (hold: boolean) =>
    execa(
      process.execPath,
      [
        "--max-old-space-size=64",
        "--import",
        "tsx",
        join(import.meta.dirname, "fixtures", "write-samples.ts"),
        join(dir.path, `million-${hold}.tar.gz`),
        "1000000",
      ],
      { env: { HOLD: hold ? "1" : "0" }, reject: false },
    );

  it("streams a million samples within a 64 MB heap", async () => {
    const run = await writeMillion(false);
    expect(run.exitCode).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ samples: 1_000_000, held: 0 });
    const childKey = await loadSigningKey(join(dir.path, "million-false.tar.gz.key.pem"));
    const manifest = await verifyBundle(join(dir.path, "million-false.tar.gz"), {
      keyring: parseKeyring(formatKeyringLine("*", childKey.publicRaw), "child key"),
    });
    expect(manifest.counts.samples).toBe(1_000_000);
  });

  it("control: holding the same samples does not fit that heap", async () => {
    const run = await writeMillion(true);
    expect(run.exitCode).not.toBe(0);
    expect(run.stderr).toMatch(/heap/i);
  });
});

describe("bundle writer refuses to write what the reader would refuse", () => {
  const identity = {
    cycle_id: "c-x",
    tier: "stress",
    region: "us-east-1",
    region_role: "primary" as const,
    environment: "env-1",
    plan_hash: "0".repeat(64),
    config_hash: "0".repeat(64),
    tools: [],
  };

  it.each<[string, (w: BundleWriter) => Promise<unknown>, string]>([
    [
      "a result of another cycle",
      (w) => w.addResult({ ...gen.results[0]!, cycle_id: "c-other" }),
      "bundle writer: result " +
        gen.results[0]!.result_id +
        " belongs to cycle c-other / env-1, the bundle to c-x / env-1",
    ],
    [
      "a raw name with a path",
      (w) => w.addRaw("a/b", "x"),
      'bundle writer: raw file names are flat, got "a/b"',
    ],
    [
      "a raw name that escapes",
      (w) => w.addRaw("..", "x"),
      'bundle refused (path_traversal): entry "raw/.." has a ".." component',
    ],
    [
      "finishing without a cycle summary",
      (w) => w.finish(join(dir.path, "never.tar.gz")),
      "bundle writer: setCycle() was not called",
    ],
    [
      "a result pointing to a raw file never added",
      async (w) => {
        w.setCycle({ ...gen.summary, cycle_id: "c-x" });
        await w.addResult({ ...gen.results[0]!, cycle_id: "c-x" });
        return w.finish(join(dir.path, "never.tar.gz"));
      },
      `bundle writer: result ${gen.results[0]!.result_id} points to raw/${gen.results[0]!.result_id}.stdout, which was not added`,
    ],
  ])("refuses %s", async (_what, act, message) => {
    const writer = await BundleWriter.create({ key: keys.key, identity });
    try {
      await expect(act(writer)).rejects.toThrow(message);
    } finally {
      await writer.abort();
    }
  });

  it("refuses a sample that breaks the shared schema", async () => {
    const writer = await BundleWriter.create({ key: keys.key, identity });
    try {
      await expect(writer.addSample({ ts_ms: -1, phase: "light", series: "x", value: 1 })).rejects.toThrow(
        /ts_ms/,
      );
    } finally {
      await writer.abort();
    }
  });
});
