import { existsSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, resolve } from "node:path";
import Database from "better-sqlite3";
import {
  CompiledQuery,
  Kysely,
  PostgresDialect,
  SqliteAdapter,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type DialectAdapter,
  type Driver,
  type PostgresPool,
  type PostgresPoolClient,
  type Transaction,
} from "kysely";
import pg from "pg";
import { ExitCode, TiersError } from "../../../tiers/errors.js";
import { describeDbError, redactUrl } from "./errors.js";
import type { DbKind } from "./migrations.js";
import { postgresSampleLoader, sqliteSampleLoader, type SampleLoader } from "./sample-loader.js";
import type { CentralDatabase } from "./schema.js";

export { DEFAULT_DB_PATH, resolveDbLocation } from "./location.js";

/** How long a write waits for another writer before giving up (`TIERS_DB_BUSY_TIMEOUT_MS`). */
export const DEFAULT_BUSY_TIMEOUT_MS = 30_000;
/** A day: beyond it a lock is not busy but stuck (and SQLite's and PostgreSQL's timeouts are 32-bit). */
export const MAX_BUSY_TIMEOUT_MS = 86_400_000;

export interface OpenOptions {
  /** Create a missing SQLite file (import does; report and compare do not). */
  readonly create?: boolean;
  readonly busyTimeoutMs?: number;
}

/** An open results database: one Kysely instance and the bulk path bound to the same connection. */
export interface CentralDb {
  readonly kind: DbKind;
  /** File path or connection URL with the password hidden, for messages. */
  readonly location: string;
  /**
   * Where an import extracts a bundle while it checks and loads it: beside a SQLite file (same
   * disk, same owner), the OS temp directory for PostgreSQL. Stale extractions there are swept.
   */
  readonly stagingDir: string;
  readonly db: Kysely<CentralDatabase>;
  /** One write transaction (SQLite: BEGIN IMMEDIATE) with a sample loader on its connection. */
  transaction<T>(body: (trx: Transaction<CentralDatabase>, samples: SampleLoader) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export function busyTimeoutFrom(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.TIERS_DB_BUSY_TIMEOUT_MS;
  if (raw === undefined) return DEFAULT_BUSY_TIMEOUT_MS;
  const n = Number(raw);
  if (!/^\s*\d+\s*$/.test(raw) || n > MAX_BUSY_TIMEOUT_MS)
    throw new TiersError(
      ExitCode.InvalidConfig,
      `environment TIERS_DB_BUSY_TIMEOUT_MS: not a number of milliseconds (got ${JSON.stringify(raw)}, expected an integer from 0 to ${MAX_BUSY_TIMEOUT_MS})`,
    );
  return n;
}

/**
 * SQLite's default BEGIN is deferred: a transaction that reads first and writes later fails with
 * SQLITE_BUSY when another process wrote in between, without waiting. BEGIN IMMEDIATE takes the
 * write lock up front and waits `busy_timeout` for it, so concurrent importers queue instead.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("begin immediate"));
  }
}

/**
 * SQLite runs DDL inside transactions; Kysely's adapter says it does not (to be safe across
 * builds), which would run each migration outside any transaction: half-applied on failure, and
 * racing between processes. Saying so lets the Migrator wrap them in BEGIN IMMEDIATE.
 */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  constructor(private readonly handle: Database.Database) {
    super({ database: handle });
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver({ database: this.handle });
  }
  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}

function openSqlite(path: string, options: OpenOptions): CentralDb {
  const file = resolve(path);
  if (!options.create && !existsSync(file))
    throw new TiersError(
      ExitCode.InvalidConfig,
      `no results database at ${file}; import bundles first (tiers central import …) or pass --db`,
    );
  try {
    if (options.create) mkdirSync(dirname(file), { recursive: true });
    const handle = new Database(file, { timeout: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS });
    try {
      handle.pragma("schema_version"); // fails here, clearly, when the file is not a database
      handle.pragma("journal_mode = WAL");
      handle.pragma("synchronous = FULL");
      handle.pragma("foreign_keys = ON");
    } catch (error) {
      handle.close();
      throw error;
    }
    const db = new Kysely<CentralDatabase>({ dialect: new ImmediateSqliteDialect(handle) });
    return {
      kind: "sqlite",
      location: file,
      stagingDir: dirname(resolve(file)),
      db,
      transaction: (body) => db.transaction().execute((trx) => body(trx, sqliteSampleLoader(trx, handle))),
      close: () => db.destroy(),
    };
  } catch (error) {
    throw describeDbError(error, file) ?? error;
  }
}

/** A "pool" of exactly one client, so Kysely's transaction and COPY share one connection. */
function singleClientPool(client: pg.Client): PostgresPool {
  let busy: Promise<void> = Promise.resolve();
  return {
    async connect() {
      let release!: () => void;
      const previous = busy;
      busy = new Promise<void>((r) => (release = r));
      await previous;
      // Kysely only passes SQL text and parameters (no cursors are configured).
      const query = (sql: string, parameters: readonly unknown[]) => client.query(sql, [...parameters]);
      return { query, release: () => release() } as unknown as PostgresPoolClient;
    },
    end: () => client.end(),
  };
}

async function openPostgres(url: string, options: OpenOptions): Promise<CentralDb> {
  const location = redactUrl(url);
  // int8 (count(*), bigint columns) as numbers: epoch milliseconds and counts fit in 2^53.
  const types = new pg.TypeOverrides();
  types.setTypeParser(20, Number);
  const client = new pg.Client({ connectionString: url, types });
  client.on("error", () => undefined); // a dropped connection surfaces on the next query
  try {
    await client.connect();
    await client.query(`SET lock_timeout = ${Math.trunc(options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS)}`);
  } catch (error) {
    await client.end().catch(() => undefined);
    throw describeDbError(error, location) ?? error;
  }
  const db = new Kysely<CentralDatabase>({
    dialect: new PostgresDialect({ pool: singleClientPool(client) }),
  });
  return {
    kind: "postgres",
    location,
    stagingDir: tmpdir(),
    db,
    transaction: (body) => db.transaction().execute((trx) => body(trx, postgresSampleLoader(client))),
    close: () => db.destroy(),
  };
}

/** Opens the database a location names: `postgres://…` / `postgresql://…`, else a SQLite file path. */
export async function openCentralDb(location: string, options: OpenOptions = {}): Promise<CentralDb> {
  return /^postgres(ql)?:\/\//.test(location)
    ? openPostgres(location, options)
    : openSqlite(location, options);
}
