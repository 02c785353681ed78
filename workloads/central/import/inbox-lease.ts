import { sql } from "kysely";
import type { CentralDb } from "../db/connect.js";

/**
 * Leases on inbox objects, so that watchers of one S3 inbox never import the same bundle twice.
 *
 * S3 itself has no compare-and-swap that every S3 API server honours (conditional PUT with
 * If-None-Match exists on AWS since 2024, but s3rver and other servers ignore it, so a claim made
 * that way would silently succeed twice). The results database every watcher already shares has
 * one: an upsert that takes a row only when it is free or its lease has run out. The table is the
 * watchers' working state, not results: it is created here, outside the schema's migrations, and
 * a report never reads it.
 */
export const LEASE_TABLE = "inbox_leases";

/** How long a claim holds before another watcher may take the object over (a watcher that died). */
export const DEFAULT_LEASE_MS = 15 * 60_000;

export async function ensureLeaseTable(cdb: CentralDb): Promise<void> {
  const create = () =>
    cdb.db.schema
      .createTable(LEASE_TABLE)
      .ifNotExists()
      .addColumn("object_key", "text", (c) => c.primaryKey())
      .addColumn("holder", "text", (c) => c.notNull())
      .addColumn("expires_at_ms", "bigint", (c) => c.notNull())
      .execute();
  try {
    await create();
  } catch (error) {
    // PostgreSQL: two watchers starting at once both pass IF NOT EXISTS and one fails on the
    // catalog's unique index (23505) or finds the table made meanwhile (42P07); it is there now.
    const code = (error as { code?: string } | null)?.code;
    if (code !== "23505" && code !== "42P07") throw error;
    await create();
  }
}

/**
 * Takes the lease on `key` for `holder` until now + `leaseMs`; true when this holder has it now.
 * One statement: when two watchers race, the database lets exactly one insert (or update an
 * expired row); the other's upsert matches no row and returns nothing.
 */
export async function claimLease(
  cdb: CentralDb,
  key: string,
  holder: string,
  leaseMs: number,
  now: number = Date.now(),
): Promise<boolean> {
  const rows = await sql<{ holder: string }>`
    insert into ${sql.table(LEASE_TABLE)} (object_key, holder, expires_at_ms)
    values (${key}, ${holder}, ${now + leaseMs})
    on conflict (object_key) do update
      set holder = excluded.holder, expires_at_ms = excluded.expires_at_ms
      where ${sql.table(LEASE_TABLE)}.expires_at_ms < ${now}
    returning holder`.execute(cdb.db);
  return rows.rows.length === 1 && rows.rows[0]!.holder === holder;
}

/** Gives the lease back (only this holder's). */
export async function releaseLease(cdb: CentralDb, key: string, holder: string): Promise<void> {
  await sql`delete from ${sql.table(LEASE_TABLE)} where object_key = ${key} and holder = ${holder}`.execute(
    cdb.db,
  );
}
