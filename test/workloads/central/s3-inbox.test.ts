/**
 * The S3 inbox against a real S3 API server on loopback (s3rver) and real databases: two watchers
 * at once import each bundle exactly once, move it to imported/, and move refused ones to
 * rejected/ with their reason object. No queue is configured here: the watchers poll (the SQS
 * path is not exercised, see README "Central stack").
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadKeyring, type Keyring } from "../../../workloads/bundle/keyring.js";
import { generateSigningKey } from "../../../workloads/bundle/keys.js";
import { listObjects, uploadFile } from "../../../workloads/bundle/s3-store.js";
import { openCentralDb, type CentralDb } from "../../../workloads/central/db/connect.js";
import { migrateToLatest } from "../../../workloads/central/db/migrate.js";
import type { InboxEvent } from "../../../workloads/central/import/inbox.js";
import { LEASE_TABLE, claimLease, ensureLeaseTable } from "../../../workloads/central/import/inbox-lease.js";
import { isInboxBundleKey, parseS3Url, watchS3Inbox } from "../../../workloads/central/import/s3-inbox.js";
import { generateAndWrite, makeKeys } from "../../support/bundles.js";
import { DB_TARGETS, makeDatabase } from "../../support/databases.js";
import { startS3Server, type S3TestServer } from "../../support/s3-server.js";
import { tempDir } from "../../support/temp.js";
import { waitFor } from "../../workloads/support/wait.js";

const BUCKET = "central-inbox";
const PREFIX = "inbox/";

let dir: Awaited<ReturnType<typeof tempDir>>;
let s3: S3TestServer;
let keyring: Keyring;
/** Good bundles: key under the inbox → local file. */
const good = new Map<string, string>();
/** Refused ones: key → the reason the importer must give. */
const refused = new Map<string, string>();

beforeAll(async () => {
  dir = await tempDir();
  s3 = await startS3Server([BUCKET]);
  const keys = await makeKeys(dir.path);
  keyring = await loadKeyring(keys.keyringPath);
  for (let i = 0; i < 6; i++) {
    const env = i % 2;
    const b = await generateAndWrite(
      { tier: "ultimate", cycleId: `c-s3-${Math.floor(i / 2)}`, environment: env, timeScale: 0.01, seed: i },
      keys.key,
      join(dir.path, "good"),
    );
    good.set(`${PREFIX}env-${env + 1}/c-s3-${Math.floor(i / 2)}.tar.gz`, b.path);
  }
  const stranger = await generateSigningKey(join(dir.path, "stranger.pem"));
  const foreign = await generateAndWrite(
    { tier: "base", cycleId: "c-s3-stranger", timeScale: 0.01 },
    stranger,
    join(dir.path, "bad"),
  );
  refused.set(`${PREFIX}env-1/stranger.tar.gz`, foreign.path);
});
afterAll(async () => {
  await s3?.close();
  await dir?.remove();
});

describe("S3 inbox keys", () => {
  it.each([
    ["inbox/env-1/a.tar.gz", true],
    ["inbox/a.tar.gz", true],
    ["inbox/imported/env-1/a.tar.gz", false],
    ["inbox/rejected/env-1/a.tar.gz", false],
    ["inbox/rejected/env-1/a.tar.gz.reason.txt", false],
    ["inbox/env-1/.partial-a.tar.gz", false],
    ["inbox/env-1/a.zip", false],
    ["other/env-1/a.tar.gz", false],
  ])("%s is a bundle to import: %s", (key, expected) => {
    expect(isInboxBundleKey({ bucket: BUCKET, prefix: PREFIX }, key)).toBe(expected);
  });

  it.each([
    ["s3://central-inbox/inbox", { bucket: "central-inbox", prefix: "inbox/" }],
    ["s3://central-inbox/inbox/", { bucket: "central-inbox", prefix: "inbox/" }],
    ["s3://central-inbox", { bucket: "central-inbox", prefix: "" }],
  ])("parses %s", (url, expected) => {
    expect(parseS3Url(url)).toStrictEqual(expected);
  });

  it.each(["s3://", "http://x/y", "s3://UPPER/x", "s3://b/../x"])(
    "refuses %s with the form expected",
    (url) => {
      expect(() => parseS3Url(url)).toThrow(/^--watch: .*expected s3:\/\/<bucket>\/<prefix>/);
    },
  );
});

describe.each(DB_TARGETS)("two watchers on one S3 inbox (%s)", (target) => {
  let url: string;
  let drop: () => Promise<void>;
  const dbs: CentralDb[] = [];

  beforeAll(async () => {
    ({ url, drop } = await makeDatabase(target, dir.path));
    for (let i = 0; i < 2; i++) {
      const cdb = await openCentralDb(url, { create: true });
      dbs.push(cdb);
    }
    await migrateToLatest(dbs[0]!);
  });
  afterAll(async () => {
    for (const cdb of dbs) await cdb.close();
    await drop?.();
  });

  // better-sqlite3 is synchronous: two watchers on one SQLite file in one process would wait for
  // each other's lock on the one event loop. Separate processes share a SQLite file (tested with
  // the CLI below); the central stack's database is PostgreSQL.
  it.runIf(target === "postgres")(
    "imports each bundle exactly once, moves it to imported/, and refused ones to rejected/ with their reason",
    async () => {
      const prefix = `${target}/${PREFIX}`;
      const client = s3.client();
      // Half put as the orchestrator puts them (sha256 metadata), half as a plain `aws s3 cp` would.
      let n = 0;
      for (const [key, file] of [...good, ...refused]) {
        const k = `${target}/${key}`;
        if (n++ % 2 === 0) await uploadFile(client, { bucket: BUCKET, key: k, file });
        else await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: k, Body: await readFile(file) }));
      }
      await client.send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: `${prefix}env-2/garbage.tar.gz`,
          Body: "not a bundle at all",
        }),
      );

      const controller = new AbortController();
      const events: { watcher: number; event: InboxEvent }[] = [];
      const watchers = [0, 1].map((w) =>
        watchS3Inbox(dbs[w]!, {
          client: s3.client(),
          location: { bucket: BUCKET, prefix },
          keyring,
          signal: controller.signal,
          pollMs: 50,
          holder: `watcher-${w}`,
          onEvent: (event) => {
            events.push({ watcher: w, event });
          },
        }),
      );
      const total = good.size + refused.size + 1;
      try {
        await waitFor(
          "every inbox object to be moved",
          async () => {
            const left = (await listObjects(client, BUCKET, prefix)).filter((o) =>
              isInboxBundleKey({ bucket: BUCKET, prefix }, o.key),
            );
            return left.length === 0 && events.length >= total;
          },
          60_000,
        );
      } finally {
        controller.abort();
        await Promise.all(watchers);
      }

      const imported = events.filter((e) => e.event.kind === "imported").map((e) => e.event);
      const rejected = events.filter((e) => e.event.kind === "rejected").map((e) => e.event);
      expect(events.filter((e) => e.event.kind === "deferred")).toStrictEqual([]);
      // Exactly once: one event per bundle, none of them "already imported" by the other watcher.
      expect(imported.map((e) => (e.kind === "imported" ? e.outcome.file : "")).sort()).toStrictEqual(
        [...good.keys()].map((k) => `s3://${BUCKET}/${target}/${k}`).sort(),
      );
      expect(imported.map((e) => (e.kind === "imported" ? e.outcome.status : ""))).toStrictEqual(
        Array(good.size).fill("imported"),
      );
      const bundles = await dbs[0]!.db.selectFrom("bundles").select("bundle_id").execute();
      expect(bundles).toHaveLength(good.size);

      const after = (await listObjects(client, BUCKET, prefix)).map((o) => o.key.slice(prefix.length)).sort();
      expect(after).toStrictEqual(
        [
          ...[...good.keys()].map((k) => `imported/${k.slice(PREFIX.length)}`),
          "rejected/env-1/stranger.tar.gz",
          "rejected/env-1/stranger.tar.gz.reason.txt",
          "rejected/env-2/garbage.tar.gz",
          "rejected/env-2/garbage.tar.gz.reason.txt",
        ].sort(),
      );
      const reasonOf = async (key: string): Promise<string> => {
        const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${prefix}${key}` }));
        return got.Body!.transformToString();
      };
      expect(await reasonOf("rejected/env-1/stranger.tar.gz.reason.txt")).toMatch(
        new RegExp(
          `^reason: unknown_key\\nmessage: .+\\nfile: s3://${BUCKET}/${target}/inbox/env-1/stranger\\.tar\\.gz\\nrefused_at: \\S+Z\\n$`,
        ),
      );
      expect(await reasonOf("rejected/env-2/garbage.tar.gz.reason.txt")).toMatch(/^reason: corrupt_gzip\n/);
      expect(rejected.map((e) => (e.kind === "rejected" ? e.reason : "")).sort()).toStrictEqual([
        "corrupt_gzip",
        "unknown_key",
      ]);
      // Every lease was given back.
      expect(
        await dbs[0]!.db
          .selectFrom(LEASE_TABLE as never)
          .selectAll()
          .execute(),
      ).toStrictEqual([]);
    },
  );

  it("a lease is held by one watcher until it expires", async () => {
    await ensureLeaseTable(dbs[0]!);
    expect(await claimLease(dbs[0]!, "k", "a", 1000, 10_000)).toBe(true);
    expect(await claimLease(dbs[1]!, "k", "b", 1000, 10_500)).toBe(false);
    expect(await claimLease(dbs[1]!, "k", "b", 1000, 11_001)).toBe(true);
    expect(await claimLease(dbs[0]!, "k", "a", 1000, 11_500)).toBe(false);
  });
});
