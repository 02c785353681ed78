import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadKeyring } from "../../../workloads/bundle/keyring.js";
import { STAGING_PREFIX } from "../../../workloads/bundle/staging.js";
import { openCentralDb } from "../../../workloads/central/db/connect.js";
import { migrateToLatest } from "../../../workloads/central/db/migrate.js";
import { importBundle } from "../../../workloads/central/import/import-bundle.js";
import { generateAndWrite, makeKeys, type TestEnvironmentKeys } from "../../support/bundles.js";
import { DB_TARGETS, fingerprint, makeDatabase } from "../../support/databases.js";
import { tempDir } from "../../support/temp.js";

const CLI = join(import.meta.dirname, "..", "..", "..", "bin", "tiers.js");

let dir: Awaited<ReturnType<typeof tempDir>>;
let keys: TestEnvironmentKeys;
let first: string;
let second: string;
let big: string;
let child: ResultPromise | undefined;

beforeAll(async () => {
  dir = await tempDir();
  keys = await makeKeys(dir.path);
  first = (await generateAndWrite({ tier: "base", cycleId: "c-kept" }, keys.key, dir.path)).path;
  second = (
    await generateAndWrite({ tier: "stress", cycleId: "c-killed", sampleIntervalMs: 200 }, keys.key, dir.path)
  ).path;
  // Big enough (~300,000 samples) that its import is still running when the signal comes.
  big = (
    await generateAndWrite(
      { tier: "ultimate", cycleId: "c-big", timeScale: 1, sampleIntervalMs: 220 },
      keys.key,
      dir.path,
    )
  ).path;
});
afterEach(() => {
  child?.kill("SIGKILL");
  child = undefined;
});
afterAll(() => dir?.remove());

/** Resolves when the child prints `line` on stdout (no sleeping: the child says where it is). */
function waitForLine(proc: ResultPromise, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = "";
    proc.stdout!.on("data", (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.split("\n").includes(line)) resolve();
    });
    proc.once("exit", (code) =>
      reject(new Error(`importer exited (${code}) before printing ${line}: ${seen}`)),
    );
  });
}

const stagingIn = async (parent: string) =>
  (await readdir(parent)).filter((n) => n.startsWith(STAGING_PREFIX));

/** Resolves once an extraction directory exists in `parent` (the import is under way). */
async function waitForStaging(parent: string, proc: ResultPromise): Promise<void> {
  let exited = false;
  void proc.once("exit", () => (exited = true));
  while ((await stagingIn(parent)).length === 0) {
    if (exited) throw new Error("the importer finished before its extraction was seen");
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function freshDb(target: (typeof DB_TARGETS)[number], work: string) {
  const database = await makeDatabase(target, work);
  const cdb = await openCentralDb(database.url, { create: true });
  await migrateToLatest(cdb);
  await importBundle(cdb, first, { keyring: await loadKeyring(keys.keyringPath), workParent: work });
  return { database, cdb };
}

const holder = (url: string, bundle: string, work: string, mode?: string) =>
  execa(
    process.execPath,
    [
      "--import",
      "tsx",
      join(import.meta.dirname, "fixtures", "import-and-hold.ts"),
      url,
      bundle,
      keys.keyringPath,
      work,
      ...(mode ? [mode] : []),
    ],
    { reject: false },
  );

describe.each(DB_TARGETS)("an importer stopped inside its transaction (%s)", (target) => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let db: Awaited<ReturnType<typeof freshDb>>;
  beforeAll(async () => {
    work = await tempDir();
    db = await freshDb(target, work.path);
  });
  afterAll(async () => {
    await db?.cdb.close();
    await db?.database.drop();
    await work?.remove();
  });

  it("by SIGKILL leaves no trace of the bundle; the next import sweeps its extraction and imports it", async () => {
    const { cdb, database } = db;
    const keyring = await loadKeyring(keys.keyringPath);
    const before = await fingerprint(cdb);
    child = holder(database.url, second, work.path);
    await waitForLine(child, "holding");
    child.kill("SIGKILL");
    const ended = await child;
    expect(ended.signal).toBe("SIGKILL");
    expect(ended.stdout).not.toContain("committed");
    expect(await fingerprint(cdb)).toStrictEqual(before);
    // No handler runs on SIGKILL: its extraction is still there, owned by a dead process.
    expect(await stagingIn(work.path)).toHaveLength(1);
    const outcome = await importBundle(cdb, second, { keyring, workParent: work.path });
    expect(outcome.status).toBe("imported");
    expect(await stagingIn(work.path)).toStrictEqual([]);
    const rows = await cdb.db
      .selectFrom("samples")
      .innerJoin("bundles", "bundles.bundle_key", "samples.bundle_key")
      .select((eb) => eb.fn.countAll().as("n"))
      .where("bundles.cycle_id", "=", "c-killed")
      .executeTakeFirstOrThrow();
    expect(Number(rows.n)).toBe(outcome.counts.samples);
  });

  it.each(["SIGINT", "SIGTERM"] as const)(
    "by %s rolls back, removes its extraction and exits 130",
    async (signal) => {
      const { cdb, database } = db;
      const before = await fingerprint(cdb);
      child = holder(database.url, big, work.path, "interruptible");
      await waitForLine(child, "holding");
      child.kill(signal);
      const ended = await child;
      expect(ended.exitCode).toBe(130);
      expect(ended.stdout).toContain("stopped: interrupted: the bundle being imported was not stored");
      expect(await stagingIn(work.path)).toStrictEqual([]);
      expect(await fingerprint(cdb)).toStrictEqual(before);
    },
  );
});

describe.each([
  ["sqlite", "SIGINT"],
  ["postgres", "SIGTERM"],
] as const)("tiers central import on %s stopped by %s while it reads a bundle", (target, signal) => {
  it("exits 130, leaves no extraction directory and writes nothing", async () => {
    const work = await tempDir();
    const db = await freshDb(target, work.path);
    try {
      const before = await fingerprint(db.cdb);
      // SQLite stages beside the database; PostgreSQL in the temp directory, here the test's own.
      child = execa(
        process.execPath,
        [CLI, "central", "import", big, "--db", db.database.url, "--keyring", keys.keyringPath],
        { reject: false, env: { TMPDIR: work.path } },
      );
      await waitForStaging(work.path, child);
      child.kill(signal);
      const ended = await child;
      expect(ended.exitCode).toBe(130);
      expect(ended.stderr).toBe("error: interrupted: the bundle being imported was not stored");
      expect(await stagingIn(work.path)).toStrictEqual([]);
      expect(await fingerprint(db.cdb)).toStrictEqual(before);
    } finally {
      await db.cdb.close();
      await db.database.drop();
      await work.remove();
    }
  });
});
