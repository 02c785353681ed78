import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadKeyring } from "../../../workloads/bundle/keyring.js";
import { openCentralDb } from "../../../workloads/central/db/connect.js";
import { migrateToLatest } from "../../../workloads/central/db/migrate.js";
import { importBundle } from "../../../workloads/central/import/import-bundle.js";
import { generateAndWrite, makeKeys, type TestEnvironmentKeys } from "../../support/bundles.js";
import { DB_TARGETS, fingerprint, makeDatabase } from "../../support/databases.js";
import { tempDir } from "../../support/temp.js";

let dir: Awaited<ReturnType<typeof tempDir>>;
let keys: TestEnvironmentKeys;
let first: string;
let second: string;
let child: ResultPromise | undefined;

beforeAll(async () => {
  dir = await tempDir();
  keys = await makeKeys(dir.path);
  first = (await generateAndWrite({ tier: "base", cycleId: "c-kept" }, keys.key, dir.path)).path;
  second = (
    await generateAndWrite({ tier: "stress", cycleId: "c-killed", sampleIntervalMs: 200 }, keys.key, dir.path)
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

describe.each(DB_TARGETS)("an importer killed inside its transaction (%s)", (target) => {
  it("leaves no trace of the bundle, and the bundle imports afterwards", async () => {
    const database = await makeDatabase(target, dir.path);
    const keyring = await loadKeyring(keys.keyringPath);
    const cdb = await openCentralDb(database.url, { create: true });
    try {
      await migrateToLatest(cdb);
      await importBundle(cdb, first, { keyring });
      const before = await fingerprint(cdb);
      child = execa(
        process.execPath,
        [
          "--import",
          "tsx",
          join(import.meta.dirname, "fixtures", "import-and-hold.ts"),
          database.url,
          second,
          keys.keyringPath,
          dir.path,
        ],
        { reject: false },
      );
      await waitForLine(child, "holding");
      child.kill("SIGKILL");
      const ended = await child;
      expect(ended.signal).toBe("SIGKILL");
      expect(ended.stdout).not.toContain("committed");
      expect(await fingerprint(cdb)).toStrictEqual(before);
      const outcome = await importBundle(cdb, second, { keyring });
      expect(outcome.status).toBe("imported");
      const rows = await cdb.db
        .selectFrom("samples")
        .innerJoin("bundles", "bundles.bundle_key", "samples.bundle_key")
        .select((eb) => eb.fn.countAll().as("n"))
        .where("bundles.cycle_id", "=", "c-killed")
        .executeTakeFirstOrThrow();
      expect(Number(rows.n)).toBe(outcome.counts.samples);
    } finally {
      await cdb.close();
      await database.drop();
    }
  });
});
