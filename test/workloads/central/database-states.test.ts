import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import Database from "better-sqlite3";
import { Migrator, sql } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadKeyring, type Keyring } from "../../../workloads/bundle/keyring.js";
import { busyTimeoutFrom, openCentralDb, resolveDbLocation } from "../../../workloads/central/db/connect.js";
import {
  appliedMigrations,
  migrateToLatest,
  requireLatestSchema,
} from "../../../workloads/central/db/migrate.js";
import { MIGRATION_NAMES, migrationProvider } from "../../../workloads/central/db/migrations.js";
import { importBundle } from "../../../workloads/central/import/import-bundle.js";
import { generateAndWrite, makeKeys } from "../../support/bundles.js";
import { DB_TARGETS, fingerprint, makeDatabase, PG_SERVER_URL } from "../../support/databases.js";
import { tempDir } from "../../support/temp.js";

let dir: Awaited<ReturnType<typeof tempDir>>;
let keyring: Keyring;
let bundleA: string;
let bundleB: string;

beforeAll(async () => {
  dir = await tempDir();
  const keys = await makeKeys(dir.path);
  keyring = await loadKeyring(keys.keyringPath);
  bundleA = (await generateAndWrite({ tier: "base", cycleId: "c-a" }, keys.key, dir.path)).path;
  bundleB = (await generateAndWrite({ tier: "base", cycleId: "c-b" }, keys.key, dir.path)).path;
});
afterAll(() => dir?.remove());

describe.each(DB_TARGETS)("a %s database that is old, new, locked or missing", (target) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });
  const fresh = async (options: { create?: boolean; busyTimeoutMs?: number } = { create: true }) => {
    const database = await makeDatabase(target, dir.path);
    const cdb = await openCentralDb(database.url, options);
    cleanups.push(
      () => database.drop(),
      () => cdb.close(),
    );
    return { url: database.url, cdb };
  };

  it("migrates a database on an older schema and keeps its data", async () => {
    const { cdb } = await fresh();
    // A database as an earlier version left it: today's import, then 004 and 003 taken back.
    await migrateToLatest(cdb);
    expect((await importBundle(cdb, bundleA, { keyring })).status).toBe("imported");
    await new Migrator({ db: cdb.db, provider: migrationProvider(cdb.kind) }).migrateTo(
      "002_history_indexes",
    );
    expect(await appliedMigrations(cdb)).toStrictEqual(["001_core", "002_history_indexes"]);
    // 005's spans table does not exist at 002 (the bundle has no traces.ndjson: no rows either way).
    const before = await fingerprint(cdb, { omitTables: ["spans"] });
    await expect(requireLatestSchema(cdb)).rejects.toThrow(
      `database ${cdb.location} is at schema 002_history_indexes, this tiers needs 005_spans; run tiers central import (it migrates) on it first`,
    );
    expect(await migrateToLatest(cdb)).toStrictEqual([
      "003_exact_content",
      "004_fault_recovery",
      "005_spans",
    ]);
    // The rows are what they were; 003's and 004's columns are empty for them.
    expect(
      await fingerprint(cdb, {
        omit: ["environment_name", "value_bool", "detection_ms", "recovery_ms"],
        omitTables: ["spans"],
      }),
    ).toStrictEqual(before);
    expect(await cdb.db.selectFrom("spans").selectAll().execute()).toStrictEqual([]);
    await requireLatestSchema(cdb);
    expect(await migrateToLatest(cdb)).toStrictEqual([]);
  });

  it("refuses a database a newer tiers migrated, changing nothing", async () => {
    const { cdb } = await fresh();
    await migrateToLatest(cdb);
    await cdb.db
      .withTables<{ kysely_migration: { name: string; timestamp: string } }>()
      .insertInto("kysely_migration")
      .values({ name: "999_future", timestamp: new Date().toISOString() })
      .execute();
    const message = `database ${cdb.location} was migrated by a newer tiers (it has migration 999_future, this one knows up to 005_spans); use that version or another database`;
    await expect(migrateToLatest(cdb)).rejects.toThrow(message);
    await expect(requireLatestSchema(cdb)).rejects.toThrow(message);
  });

  it("leaves the schema where it was when a migration fails half way", async () => {
    const { cdb } = await fresh();
    await new Migrator({ db: cdb.db, provider: migrationProvider(cdb.kind) }).migrateTo("001_core");
    // 002 creates bundles_history first and results_bundle last; make the last one collide.
    await cdb.db.schema.createIndex("results_bundle").on("results").column("result_id").execute();
    await expect(migrateToLatest(cdb)).rejects.toThrow(
      new RegExp(
        `^migrating ${cdb.location.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} failed at 002_history_indexes: .*; the database is left at its previous schema$`,
      ),
    );
    expect(await appliedMigrations(cdb)).toStrictEqual(["001_core"]);
    // The migration's first index was rolled back with it.
    const index =
      cdb.kind === "sqlite"
        ? sql`select name from sqlite_master where type = 'index' and name = 'bundles_history'`
        : sql`select indexname from pg_indexes where indexname = 'bundles_history'`;
    const hasHistoryIndex = (await index.execute(cdb.db)).rows.length;
    expect(hasHistoryIndex).toBe(0);
  });

  it("refuses to write while another process holds the database, and writes nothing", async () => {
    const { url, cdb } = await fresh({ create: true, busyTimeoutMs: 300 });
    await migrateToLatest(cdb);
    await importBundle(cdb, bundleA, { keyring });
    const before = await fingerprint(cdb);
    let release: () => Promise<void>;
    if (target === "sqlite") {
      const other = new Database(url, { timeout: 0 });
      other.exec("BEGIN IMMEDIATE");
      release = () => {
        other.exec("ROLLBACK");
        other.close();
        return Promise.resolve();
      };
    } else {
      const other = new pg.Client({ connectionString: url });
      await other.connect();
      await other.query("BEGIN");
      await other.query("LOCK TABLE bundles IN ACCESS EXCLUSIVE MODE");
      release = async () => {
        await other.query("ROLLBACK");
        await other.end();
      };
    }
    try {
      await expect(importBundle(cdb, bundleB, { keyring })).rejects.toThrow(
        `database ${cdb.location} is locked by another process; nothing was written (retry when it is free, or raise TIERS_DB_BUSY_TIMEOUT_MS)`,
      );
    } finally {
      await release();
    }
    expect(await fingerprint(cdb)).toStrictEqual(before);
    expect((await importBundle(cdb, bundleB, { keyring })).status).toBe("imported");
  });
});

describe("where the database is and how long a write waits", () => {
  it.each([
    ["flag", { TIERS_DB_URL: "postgres://x/y" }, "a.db", "a.db"],
    ["environment", { TIERS_DB_URL: "postgres://x/y" }, undefined, "postgres://x/y"],
    ["default", {}, undefined, ".tiers/central/results.db"],
  ])("--db > TIERS_DB_URL > default: %s", (_what, env, flag, expected) => {
    expect(resolveDbLocation(flag, env)).toBe(expected);
  });

  it("reads TIERS_DB_BUSY_TIMEOUT_MS and refuses what is not milliseconds", () => {
    expect(busyTimeoutFrom({})).toBe(30_000);
    expect(busyTimeoutFrom({ TIERS_DB_BUSY_TIMEOUT_MS: "250" })).toBe(250);
    for (const raw of ["soon", "-1", "1e3", "99999999999"])
      expect(() => busyTimeoutFrom({ TIERS_DB_BUSY_TIMEOUT_MS: raw })).toThrow(
        `environment TIERS_DB_BUSY_TIMEOUT_MS: not a number of milliseconds (got ${JSON.stringify(raw)}, expected an integer from 0 to 86400000)`,
      );
  });
});

describe("a database that is missing or not a database", () => {
  it("refuses to read a SQLite file that does not exist", async () => {
    const path = join(dir.path, "nowhere", "results.db");
    await expect(openCentralDb(path)).rejects.toThrow(
      `no results database at ${path}; import bundles first (tiers central import …) or pass --db`,
    );
  });

  it("creates a missing SQLite file (and its directory) for import", async () => {
    const cdb = await openCentralDb(join(dir.path, "new", "deep", "results.db"), { create: true });
    try {
      expect(await migrateToLatest(cdb)).toHaveLength(MIGRATION_NAMES.length);
    } finally {
      await cdb.close();
    }
  });

  it("refuses a file that is not a SQLite database", async () => {
    const path = join(dir.path, "notes.db");
    await writeFile(path, "these are not the tables you are looking for\n".repeat(200));
    await expect(openCentralDb(path)).rejects.toThrow(
      `${path} is not a SQLite database (file is not a database)`,
    );
  });

  it("refuses an empty database for reports", async () => {
    const cdb = await openCentralDb(join(dir.path, "empty.db"), { create: true });
    try {
      await expect(requireLatestSchema(cdb)).rejects.toThrow(
        `database ${cdb.location} holds no test-tiers results; import bundles first (tiers central import …)`,
      );
    } finally {
      await cdb.close();
    }
  });

  it("says so when the PostgreSQL database does not exist", async () => {
    const url = `${PG_SERVER_URL}/tiers_test_absent_0000`;
    await expect(openCentralDb(url)).rejects.toThrow(
      `PostgreSQL database in ${url} does not exist (database "tiers_test_absent_0000" does not exist); create it first`,
    );
  });

  it("says so when no PostgreSQL listens there", async () => {
    await expect(openCentralDb("postgres://postgres@127.0.0.1:1/x")).rejects.toThrow(
      /^cannot reach PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:1\/x \(connect ECONNREFUSED 127\.0\.0\.1:1\)$/,
    );
  });
});
