/**
 * Real databases for tests: SQLite files in a temp directory, and throwaway PostgreSQL databases
 * (`tiers_test_<random>`) on 127.0.0.1:5432 created through the `postgres` maintenance database
 * and dropped afterwards. `TIERS_TEST_PG_URL` overrides the server URL (default
 * postgres://postgres@127.0.0.1:5432). A server that cannot be reached fails the test with the
 * reason: CI provides one, and a silent skip would hide half of what the importer promises.
 */
import { createHash, randomBytes } from "node:crypto";
import pg from "pg";
import { canonicalJson } from "../../tiers/plan/hash.js";
import type { CentralDb } from "../../workloads/central/db/connect.js";
import { CENTRAL_TABLES } from "../../workloads/central/db/schema.js";

export const PG_SERVER_URL = process.env.TIERS_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432";

async function admin<T>(body: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: `${PG_SERVER_URL}/postgres` });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(
      `PostgreSQL is needed by this test and is not reachable at ${PG_SERVER_URL} (${(error as Error).message}); ` +
        `start it or set TIERS_TEST_PG_URL`,
    );
  }
  try {
    return await body(client);
  } finally {
    await client.end();
  }
}

/** Creates an empty database and returns its URL. */
export async function createPgDatabase(): Promise<string> {
  const name = `tiers_test_${randomBytes(6).toString("hex")}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  return `${PG_SERVER_URL}/${name}`;
}

export async function dropPgDatabase(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  if (!/^tiers_test_[0-9a-f]+$/.test(name)) throw new Error(`refusing to drop ${name}: not a test database`);
  await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

export interface TableFingerprint {
  readonly rows: number;
  readonly sha256: string;
}

/**
 * Row count and a content hash of every table, independent of row order and of how each driver
 * types numbers, so "the database is unchanged" can be asserted on both databases; `omit` leaves
 * columns out (those a migration added).
 */
export async function fingerprint(
  cdb: CentralDb,
  options: { readonly omit?: readonly string[]; readonly omitTables?: readonly string[] } = {},
): Promise<Record<string, TableFingerprint>> {
  const out: Record<string, TableFingerprint> = {};
  const omit = new Set(options.omit ?? []);
  for (const table of CENTRAL_TABLES) {
    if (options.omitTables?.includes(table)) continue;
    const rows = await cdb.db.selectFrom(table).selectAll().execute();
    const lines = rows
      .map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !omit.has(k))))
      .map((r) => canonicalJson(r))
      .sort();
    out[table] = { rows: rows.length, sha256: createHash("sha256").update(lines.join("\n")).digest("hex") };
  }
  return out;
}

export const DB_TARGETS = ["sqlite", "postgres"] as const;
export type DbTarget = (typeof DB_TARGETS)[number];

/** A fresh, empty database of either kind: a file under `dir`, or a throwaway PostgreSQL database. */
export async function makeDatabase(
  target: DbTarget,
  dir: string,
): Promise<{ url: string; drop: () => Promise<void> }> {
  if (target === "sqlite") {
    const url = `${dir}/central-${randomBytes(4).toString("hex")}.db`;
    return { url, drop: () => Promise.resolve() };
  }
  const url = await createPgDatabase();
  return { url, drop: () => dropPgDatabase(url) };
}
