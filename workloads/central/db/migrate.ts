import { Migrator } from "kysely";
import { ExitCode, TiersError } from "../../../tiers/errors.js";
import type { CentralDb } from "./connect.js";
import { describeDbError } from "./errors.js";
import { LATEST_MIGRATION, MIGRATION_NAMES, migrationProvider } from "./migrations.js";

function migratorFor(cdb: CentralDb): Migrator {
  return new Migrator({ db: cdb.db, provider: migrationProvider(cdb.kind) });
}

/** Names of the migrations recorded in the database (none for a new or foreign database). */
export async function appliedMigrations(cdb: CentralDb): Promise<string[]> {
  const tables = await cdb.db.introspection.getTables({ withInternalKyselyTables: true });
  if (!tables.some((t) => t.name === "kysely_migration")) return [];
  const rows = await cdb.db
    .withTables<{ kysely_migration: { name: string } }>()
    .selectFrom("kysely_migration")
    .select("name")
    .orderBy("name")
    .execute();
  return rows.map((r) => r.name);
}

function newerSchemaError(cdb: CentralDb, unknown: readonly string[]): TiersError {
  return new TiersError(
    ExitCode.InvalidConfig,
    `database ${cdb.location} was migrated by a newer tiers (it has migration ${unknown.join(", ")}, ` +
      `this one knows up to ${LATEST_MIGRATION}); use that version or another database`,
  );
}

/**
 * Brings the database to the latest schema, each migration in its own transaction with the
 * others' (Kysely's Migrator; PostgreSQL also takes an advisory lock, SQLite's BEGIN IMMEDIATE
 * serialises concurrent processes). Returns the migrations it applied.
 */
export async function migrateToLatest(cdb: CentralDb): Promise<string[]> {
  const known = new Set<string>(MIGRATION_NAMES);
  let applied: string[];
  try {
    applied = await appliedMigrations(cdb);
  } catch (error) {
    throw describeDbError(error, cdb.location) ?? error;
  }
  const unknown = applied.filter((n) => !known.has(n));
  if (unknown.length > 0) throw newerSchemaError(cdb, unknown);
  if (applied.length === MIGRATION_NAMES.length) return [];
  const { error, results = [] } = await migratorFor(cdb).migrateToLatest();
  if (error !== undefined) {
    const failed = results.find((r) => r.status === "Error")?.migrationName;
    throw (
      describeDbError(error, cdb.location) ??
      new TiersError(
        ExitCode.Infrastructure,
        `migrating ${cdb.location}${failed ? ` failed at ${failed}` : " failed"}: ${error instanceof Error ? error.message : JSON.stringify(error)}; the database is left at its previous schema`,
        { cause: error },
      )
    );
  }
  return results.filter((r) => r.status === "Success").map((r) => r.migrationName);
}

/** For read-only commands: the schema must be exactly the latest; never migrates. */
export async function requireLatestSchema(cdb: CentralDb): Promise<void> {
  let applied: string[];
  try {
    applied = await appliedMigrations(cdb);
  } catch (error) {
    throw describeDbError(error, cdb.location) ?? error;
  }
  const known = new Set<string>(MIGRATION_NAMES);
  const unknown = applied.filter((n) => !known.has(n));
  if (unknown.length > 0) throw newerSchemaError(cdb, unknown);
  if (applied.length === 0)
    throw new TiersError(
      ExitCode.InvalidConfig,
      `database ${cdb.location} holds no test-tiers results; import bundles first (tiers central import …)`,
    );
  if (applied.length < MIGRATION_NAMES.length)
    throw new TiersError(
      ExitCode.InvalidConfig,
      `database ${cdb.location} is at schema ${applied.at(-1)}, this tiers needs ${LATEST_MIGRATION}; ` +
        `run tiers central import (it migrates) on it first`,
    );
}
