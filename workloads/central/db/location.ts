/**
 * Where the results database and the keyring are: apart from `connect.ts` so a CLI can resolve it without loading
 * the database drivers (better-sqlite3, pg, kysely).
 */

/** Where the results database is when neither `--db` nor `TIERS_DB_URL` says. */
export const DEFAULT_DB_PATH = ".tiers/central/results.db";

/** `--db` > `TIERS_DB_URL` > the default file. */
export function resolveDbLocation(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag ?? env.TIERS_DB_URL ?? DEFAULT_DB_PATH;
}

/** Where the centre's keyring of trusted environment keys is when neither `--keyring` nor `TIERS_KEYRING` says. */
export const DEFAULT_KEYRING_PATH = ".tiers/central/keyring";

/** `--keyring` > `TIERS_KEYRING` > the default file. */
export function resolveKeyringLocation(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string {
  return flag ?? env.TIERS_KEYRING ?? DEFAULT_KEYRING_PATH;
}
