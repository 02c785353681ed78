import type BetterSqlite3 from "better-sqlite3";
import type { Kysely } from "kysely";
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import type { Sample } from "../../shared/cycle.js";
import { copyBinaryHeader, copyBinaryTrailer, SampleRowEncoder } from "./copy-binary.js";
import type { CentralDatabase } from "./schema.js";

/**
 * Bulk loading of samples inside the import's transaction — the one hot path (a long cycle has
 * millions of samples). Everything else goes through Kysely's query builder. The benchmark
 * (test/bench/central-import.ts) measures both against the databases' own bulk loaders.
 * - SQLite: a 64-row INSERT that Kysely compiles for the table, prepared once on the
 *   transaction's connection and run over and over (half the time of one row per statement, and
 *   far less than compiling a fresh multi-row statement per batch).
 * - PostgreSQL: `COPY samples FROM STDIN (FORMAT binary)` (pg-copy-streams) on the
 *   transaction's own connection; multi-row INSERTs reach a fifth of COPY's rate, and the binary
 *   format spares turning every number into text and back (copy-binary.ts).
 */
export interface SampleLoader {
  write(bundleKey: number, firstSeq: number, samples: readonly Sample[]): Promise<void>;
  end(): Promise<void>;
}

export const SAMPLE_COLUMNS = ["bundle_key", "seq", "ts_ms", "phase", "series", "value"] as const;

/** Rows per prepared multi-row INSERT on SQLite (384 bound values; measured best between 50 and 200). */
const SQLITE_ROWS_PER_INSERT = 64;

export function sqliteSampleLoader(
  db: Kysely<CentralDatabase>,
  handle: BetterSqlite3.Database,
): SampleLoader {
  const template = { bundle_key: 0, seq: 0, ts_ms: 0, phase: null, series: "", value: 0 };
  const compile = (rows: number) =>
    handle.prepare(
      db
        .insertInto("samples")
        .values(Array.from({ length: rows }, () => template))
        .compile().sql,
    );
  const many = compile(SQLITE_ROWS_PER_INSERT);
  const one = compile(1);
  const params: unknown[] = new Array(SQLITE_ROWS_PER_INSERT * SAMPLE_COLUMNS.length);
  return {
    write(bundleKey, firstSeq, samples) {
      let i = 0;
      for (; i + SQLITE_ROWS_PER_INSERT <= samples.length; i += SQLITE_ROWS_PER_INSERT) {
        for (let j = 0, o = 0; j < SQLITE_ROWS_PER_INSERT; j++, o += 6) {
          const s = samples[i + j]!;
          params[o] = bundleKey;
          params[o + 1] = firstSeq + i + j;
          params[o + 2] = s.ts_ms;
          params[o + 3] = s.phase;
          params[o + 4] = s.series;
          params[o + 5] = s.value;
        }
        many.run(params);
      }
      for (; i < samples.length; i++) {
        const s = samples[i]!;
        one.run(bundleKey, firstSeq + i, s.ts_ms, s.phase, s.series, s.value);
      }
      return Promise.resolve();
    },
    end: () => Promise.resolve(),
  };
}

/** Resolves on `event`, rejects on the stream's error; removes both listeners either way. */
function settle(stream: NodeJS.EventEmitter, event: "drain" | "finish"): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      stream.off(event, onEvent);
      stream.off("error", onError);
    };
    const onEvent = () => {
      done();
      resolve();
    };
    const onError = (error: Error) => {
      done();
      reject(error);
    };
    stream.on(event, onEvent);
    stream.on("error", onError);
  });
}

export function postgresSampleLoader(client: pg.Client): SampleLoader {
  let stream: ReturnType<typeof copyFrom> | undefined;
  let failure: Error | undefined;
  const encoder = new SampleRowEncoder();
  const throwIfFailed = (): void => {
    if (failure !== undefined) throw failure;
  };
  const open = () => {
    // A deep buffer lets the next batch be parsed while the server still reads this one.
    const s = client.query(
      copyFrom(`COPY samples (${SAMPLE_COLUMNS.join(", ")}) FROM STDIN (FORMAT binary)`, {
        highWaterMark: 16 << 20,
      }),
    );
    // Kept for the next write/end to throw: an error may arrive while nobody waits.
    s.on("error", (error: Error) => {
      failure ??= error;
    });
    s.write(copyBinaryHeader());
    return s;
  };
  return {
    async write(bundleKey, firstSeq, samples) {
      throwIfFailed();
      stream ??= open();
      if (!stream.write(encoder.encode(bundleKey, firstSeq, samples))) await settle(stream, "drain");
      throwIfFailed();
    },
    async end() {
      if (!stream) return;
      throwIfFailed();
      const done = settle(stream, "finish");
      stream.end(copyBinaryTrailer());
      await done;
    },
  };
}
