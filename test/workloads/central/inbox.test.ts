/**
 * The inbox never tries a bundle forever: a refusal and any other failure that would repeat go
 * to rejected/ with a reason file; only a database that is locked, unreachable or full leaves a
 * bundle in the inbox for the next scan.
 */
import { copyFile, lstat, mkdir, readdir, readFile, rename, symlink } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitCode, TiersError } from "../../../tiers/errors.js";
import { loadKeyring, type Keyring } from "../../../workloads/bundle/keyring.js";
import { openCentralDb, type CentralDb } from "../../../workloads/central/db/connect.js";
import { migrateToLatest } from "../../../workloads/central/db/migrate.js";
import { importInbox, watchInbox, type InboxEvent } from "../../../workloads/central/import/inbox.js";
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

  /** Each entry that is no bundle file: how to make it, what it is refused as, with what message. */
  const NOT_FILES: [
    string,
    (path: string) => Promise<unknown>,
    string,
    string,
    (path: string) => Promise<boolean>,
  ][] = [
    [
      "a FIFO",
      (p) => execa("mkfifo", [p]),
      "not_a_file",
      "the path is a FIFO (named pipe), not a bundle file",
      async (p) => (await lstat(p)).isFIFO(),
    ],
    [
      "a directory",
      (p) => mkdir(p),
      "not_a_file",
      "the path is a directory, not a bundle file",
      async (p) => (await lstat(p)).isDirectory(),
    ],
    [
      "a dangling symbolic link",
      (p) => symlink(join(dir.path, "no-such-bundle.tar.gz"), p),
      "unreadable",
      "the file cannot be opened (ENOENT: a dangling symbolic link)",
      async (p) => (await lstat(p)).isSymbolicLink(),
    ],
  ];

  it.each(NOT_FILES)(
    "moves %s named like a bundle to rejected/ with its reason, unopened, and never retries it",
    async (what, make, reason, message, isStill) => {
      const inbox = join(dir.path, `not-a-file-${what.replace(/\W+/g, "-")}`);
      await mkdir(inbox);
      await make(join(inbox, "env-1-c-odd.tar.gz"));
      const events = await importInbox(cdb, { dir: inbox, keyring });
      expect(events).toStrictEqual([
        {
          kind: "rejected",
          file: join(inbox, "env-1-c-odd.tar.gz"),
          reason,
          detail: message,
          movedTo: join(inbox, "rejected", "env-1-c-odd.tar.gz"),
        },
      ]);
      expect(await readdir(inbox)).toStrictEqual(["imported", "rejected"]);
      // Moved as it is (a rename), not copied or replaced by a file.
      expect(await isStill(join(inbox, "rejected", "env-1-c-odd.tar.gz"))).toBe(true);
      const text = await readFile(join(inbox, "rejected", "env-1-c-odd.tar.gz.reason.txt"), "utf8");
      expect(text.split("\n").slice(0, 3)).toStrictEqual([
        `reason: ${reason}`,
        `message: ${message}`,
        "file: env-1-c-odd.tar.gz",
      ]);
      expect(await importInbox(cdb, { dir: inbox, keyring })).toStrictEqual([]);
    },
  );

  it("--watch refuses a FIFO, a directory and a dangling link once each beside a good bundle, and renames over nothing in rejected/", async () => {
    const inbox = join(dir.path, "watched");
    await mkdir(join(inbox, "rejected"), { recursive: true });
    // A dangling link already in rejected/ under the FIFO's name: a rename onto it would replace it.
    await symlink(join(dir.path, "gone"), join(inbox, "rejected", "a-fifo.tar.gz"));
    await execa("mkfifo", [join(inbox, "a-fifo.tar.gz")]);
    await mkdir(join(inbox, "b-dir.tar.gz"));
    await symlink(join(dir.path, "gone"), join(inbox, "c-link.tar.gz"));
    await copyFile(bundle, join(inbox, "d-env-1-c-inbox.tar.gz"));
    const events: InboxEvent[] = [];
    const stop = new AbortController();
    await watchInbox(cdb, {
      dir: inbox,
      keyring,
      signal: stop.signal,
      pollMs: 50,
      onEvent: (e) => {
        events.push(e);
        // After the first scan's four, a bundle arrives (renamed in, as writers do): the scan that
        // finds it, and would find the entries refused before it were they still there, is the last.
        if (events.length === 4)
          void copyFile(bundle, join(inbox, ".e-again.part")).then(() =>
            rename(join(inbox, ".e-again.part"), join(inbox, "e-again.tar.gz")),
          );
        if (e.kind === "imported" && e.movedTo.endsWith("e-again.tar.gz")) stop.abort();
      },
    });
    expect(
      events.map((e) => [
        e.kind,
        e.kind === "rejected" ? e.reason : "",
        e.kind === "deferred" ? "" : e.movedTo,
      ]),
    ).toStrictEqual([
      ["rejected", "not_a_file", join(inbox, "rejected", "a-fifo.1.tar.gz")],
      ["rejected", "not_a_file", join(inbox, "rejected", "b-dir.tar.gz")],
      ["rejected", "unreadable", join(inbox, "rejected", "c-link.tar.gz")],
      ["imported", "", join(inbox, "imported", "d-env-1-c-inbox.tar.gz")],
      ["imported", "", join(inbox, "imported", "e-again.tar.gz")],
    ]);
    expect(await readdir(inbox)).toStrictEqual(["imported", "rejected"]);
    expect((await lstat(join(inbox, "rejected", "a-fifo.tar.gz"))).isSymbolicLink()).toBe(true);
    expect((await lstat(join(inbox, "rejected", "a-fifo.1.tar.gz"))).isFIFO()).toBe(true);
  });
});
