/**
 * The environment database's schema, as numbered migrations applied in order inside one
 * transaction each; `PRAGMA user_version` records the last one applied.
 */
export const MIGRATIONS: readonly {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}[] = [
  {
    version: 1,
    name: "cycles, phases, results, samples, events",
    sql: `
      CREATE TABLE cycles (
        cycle_id      TEXT PRIMARY KEY,
        environment   TEXT NOT NULL,
        plan_hash     TEXT NOT NULL,
        plan_json     TEXT NOT NULL,
        status        TEXT NOT NULL CHECK (status IN ('running','completed','aborted','failed','interrupted')),
        verdict       TEXT CHECK (verdict IN ('passed','failed')),
        reason        TEXT,
        calibration_json TEXT,
        started_at    TEXT NOT NULL,
        ended_at      TEXT,
        resumes       INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE phases (
        cycle_id      TEXT NOT NULL REFERENCES cycles(cycle_id),
        name          TEXT NOT NULL,
        idx           INTEGER NOT NULL,
        attempt       INTEGER NOT NULL,
        status        TEXT NOT NULL CHECK (status IN ('running','completed','aborted','skipped','not_run')),
        started_at    TEXT,
        ended_at      TEXT,
        summary_json  TEXT,
        PRIMARY KEY (cycle_id, name)
      );
      CREATE TABLE results (
        result_id     TEXT PRIMARY KEY,
        cycle_id      TEXT NOT NULL REFERENCES cycles(cycle_id),
        test_id       TEXT NOT NULL,
        phase         TEXT NOT NULL,
        status        TEXT NOT NULL,
        result_json   TEXT NOT NULL,
        committed_at  TEXT NOT NULL,
        UNIQUE (cycle_id, test_id)
      );
      CREATE TABLE samples (
        cycle_id      TEXT NOT NULL,
        attempt       INTEGER NOT NULL,
        ts_ms         INTEGER NOT NULL,
        phase         TEXT,
        series        TEXT NOT NULL,
        value         REAL NOT NULL
      );
      CREATE INDEX samples_by_cycle ON samples (cycle_id, phase, series, ts_ms);
      CREATE TABLE events (
        cycle_id      TEXT NOT NULL,
        seq           INTEGER NOT NULL,
        ts_ms         INTEGER NOT NULL,
        phase         TEXT,
        kind          TEXT NOT NULL,
        scenario      TEXT,
        detail_json   TEXT NOT NULL,
        PRIMARY KEY (cycle_id, seq)
      );
      CREATE TABLE bundles (
        bundle_id     TEXT PRIMARY KEY,
        cycle_id      TEXT NOT NULL REFERENCES cycles(cycle_id),
        file          TEXT NOT NULL,
        sha256        TEXT NOT NULL,
        size          INTEGER NOT NULL,
        created_at    TEXT NOT NULL
      );
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
