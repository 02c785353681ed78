import { busyTimeoutFrom, openCentralDb, resolveDbLocation, type CentralDb } from "./connect.js";
import { migrateToLatest, requireLatestSchema } from "./migrate.js";

/**
 * Opens the results database that `--db` (or `TIERS_DB_URL`, or the default file) names. `write`
 * creates and migrates it (import, the runner); otherwise it must exist at the latest schema
 * (report, compare). Shared by the CLI commands and the runner's targets, which must not import
 * each other.
 */
export async function openResultsDb(flag: string | undefined, write: boolean): Promise<CentralDb> {
  const cdb = await openCentralDb(resolveDbLocation(flag), {
    create: write,
    busyTimeoutMs: busyTimeoutFrom(),
  });
  try {
    if (write) await migrateToLatest(cdb);
    else await requireLatestSchema(cdb);
    return cdb;
  } catch (error) {
    await cdb.close();
    throw error;
  }
}
