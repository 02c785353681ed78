/**
 * The inbox never tries a bundle forever: a refusal and any other failure that would repeat go
 * to rejected/ with a reason file; only a database that is locked, unreachable or full leaves a
 * bundle in the inbox for the next scan.
 */
import { copyFile, mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitCode, TiersError } from "../../../tiers/errors.js";
import { loadKeyring, type Keyring } from "../../../workloads/bundle/keyring.js";
import { openCentralDb, type CentralDb } from "../../../workloads/central/db/connect.js";
import { migrateToLatest } from "../../../workloads/central/db/migrate.js";
import { importInbox } from "../../../workloads/central/import/inbox.js";
import { generateAndWrite, makeKeys } from "../../support/bundles.js";
import { tempDir } from "../../support/temp.js";

let dir: Awaited<ReturnType<typeof tempDir>>;
let keyring: Keyring;
let bundle: string;
let cdb: CentralDb;

beforeAll(async () => {
  dir = await tempDir();
  const keys = await makeKeys(dir.path);
  keyring = await loadKeyring(keys.keyringPath);
  bundle = (await generateAndWrite({ tier: "base", cycleId: "c-inbox" }, keys.key, join(dir.path, "src")))
    .path;
  cdb = await openCentralDb(join(dir.path, "central.db"), { create: true });
  await migrateToLatest(cdb);
});
afterAll(async () => {
  await cdb?.close();
  await dir?.remove();
});

/** A database whose every transaction fails with `error`. */
const failing = (error: Error): CentralDb => ({ ...cdb, transaction: () => Promise.reject(error) });

async function inboxWith(name: string): Promise<string> {
  const inbox = join(dir.path, name);
  await mkdir(inbox);
  await copyFile(bundle, join(inbox, "env-1-c-inbox.tar.gz"));
  return inbox;
}

describe("the inbox", () => {
  it("moves a bundle that fails with an internal error to rejected/, with the reason, and never retries it", async () => {
    const inbox = await inboxWith("bug");
    const events = await importInbox(failing(new Error("a bug in the importer")), { dir: inbox, keyring });
    expect(events.map((e) => e.kind)).toStrictEqual(["rejected"]);
    expect(await readdir(inbox)).toStrictEqual(["imported", "rejected"]);
    const reason = await readFile(join(inbox, "rejected", "env-1-c-inbox.tar.gz.reason.txt"), "utf8");
    expect(reason).toMatch(
      /^reason: internal_error\nmessage: a bug in the importer\nfile: env-1-c-inbox\.tar\.gz\nrefused_at: \S+\n$/,
    );
    expect(await importInbox(cdb, { dir: inbox, keyring })).toStrictEqual([]);
  });

  it("keeps a bundle in the inbox while the database is locked, and imports it once it is free", async () => {
    const inbox = await inboxWith("locked");
    const locked = new TiersError(
      ExitCode.Infrastructure,
      "database central.db is locked by another process",
    );
    const first = await importInbox(failing(locked), { dir: inbox, keyring });
    expect(first.map((e) => e.kind)).toStrictEqual(["deferred"]);
    expect((await readdir(inbox)).sort()).toStrictEqual(["env-1-c-inbox.tar.gz", "imported", "rejected"]);
    const second = await importInbox(cdb, { dir: inbox, keyring });
    expect(second.map((e) => e.kind)).toStrictEqual(["imported"]);
  });
});
