import { accessSync, constants, existsSync } from "node:fs";
import { dirname } from "node:path";
import { ExitCode, TiersError } from "../../../tiers/errors.js";

const EXPLAIN: Record<string, string> = {
  SQLITE_FULL: "the disk (or the database's size limit) is full",
  SQLITE_READONLY: "the storage is read-only",
  SQLITE_CANTOPEN: "the database file cannot be opened",
  SQLITE_IOERR: "an I/O error occurred",
  SQLITE_CORRUPT: "the database file is corrupt",
  SQLITE_NOTADB: "the file is not a SQLite database",
  SQLITE_BUSY: "another process holds the database lock",
};

/** Why a database could not be opened, found by probing its directory (root ignores permissions, not EROFS). */
function whyCannotOpen(file: string): string {
  const dir = dirname(file);
  if (!existsSync(dir)) return `its directory ${dir} does not exist`;
  try {
    accessSync(dir, constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === "EROFS" ? "the storage is read-only (EROFS)" : `its directory is not writable (${code})`;
  }
  return EXPLAIN.SQLITE_CANTOPEN!;
}

/** Turns a SQLite failure into the project's error with a sentence saying what happened. */
export function storageError(file: string, action: string, error: unknown): TiersError {
  const code = (error as { code?: string }).code ?? "";
  const base = Object.keys(EXPLAIN).find((k) => code === k || code.startsWith(`${k}_`));
  const why =
    base === "SQLITE_CANTOPEN" ? whyCannotOpen(file) : base ? EXPLAIN[base]! : (error as Error).message;
  return new TiersError(
    ExitCode.Infrastructure,
    `environment storage ${file}: cannot ${action}: ${why} (${code || "error"})`,
    { cause: error },
  );
}
