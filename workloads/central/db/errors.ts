import { ExitCode, TiersError } from "../../../tiers/errors.js";

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** A unique or primary-key violation, on either database. */
export function isUniqueViolation(error: unknown): boolean {
  const code = codeOf(error);
  return code === "23505" || code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY";
}

/**
 * Turns a driver error into the project's error with a message that says what to do, or returns
 * undefined when the error is not one we know (the caller rethrows it as it is).
 */
export function describeDbError(error: unknown, location: string): TiersError | undefined {
  if (error instanceof TiersError) return error;
  const code = codeOf(error);
  const message = (error as Error | null)?.message ?? String(error);
  const fail = (exit: (typeof ExitCode)[keyof typeof ExitCode], text: string) =>
    new TiersError(exit, text, { cause: error });
  switch (code) {
    case "SQLITE_BUSY":
    case "SQLITE_LOCKED":
    case "55P03":
      return fail(
        ExitCode.Infrastructure,
        `database ${location} is locked by another process; nothing was written (retry when it is free, or raise TIERS_DB_BUSY_TIMEOUT_MS)`,
      );
    case "SQLITE_NOTADB":
      return fail(ExitCode.InvalidConfig, `${location} is not a SQLite database (${message})`);
    case "SQLITE_CANTOPEN":
      return fail(ExitCode.InvalidConfig, `database ${location} cannot be opened (${message})`);
    case "SQLITE_READONLY":
      return fail(ExitCode.Infrastructure, `database ${location} is read-only (${message})`);
    case "SQLITE_FULL":
      return fail(ExitCode.Infrastructure, `the disk holding ${location} is full; nothing was written`);
    case "3D000":
      return fail(
        ExitCode.InvalidConfig,
        `PostgreSQL database in ${location} does not exist (${message}); create it first`,
      );
    case "28P01":
    case "28000":
      return fail(ExitCode.InvalidConfig, `PostgreSQL at ${location} refused the login (${message})`);
    case "ECONNREFUSED":
    case "ENOTFOUND":
    case "ETIMEDOUT":
    case "ECONNRESET":
    case "57P01":
      return fail(ExitCode.Infrastructure, `cannot reach PostgreSQL at ${location} (${message})`);
    default:
      return undefined;
  }
}

/** Hides a password in a connection URL for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return url;
  }
}
