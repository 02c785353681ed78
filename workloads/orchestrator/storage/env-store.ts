import Database from "better-sqlite3";
import type { CyclePlan } from "../../../tiers/plan/schema.js";
import type { CycleEvent, CycleSummary, PhaseSummary, Sample } from "../../shared/cycle.js";
import { Result } from "../../shared/result.js";
import { MIGRATIONS, SCHEMA_VERSION } from "./migrations.js";
import { storageError } from "./storage-error.js";

export type CycleStatus = CycleSummary["status"];

export interface CycleRow {
  readonly cycle_id: string;
  readonly environment: string;
  readonly plan_hash: string;
  readonly plan: CyclePlan;
  readonly status: CycleStatus | "running";
  readonly verdict: "passed" | "failed" | null;
  readonly reason: string | null;
  readonly calibration: CycleSummary["calibration"];
  readonly started_at: string;
  readonly ended_at: string | null;
  readonly resumes: number;
}

export interface PhaseRow {
  readonly name: string;
  readonly idx: number;
  readonly attempt: number;
  readonly status: PhaseSummary["status"] | "running";
  readonly started_at: string | null;
  readonly ended_at: string | null;
  readonly summary: PhaseSummary | null;
}

interface RawCycle {
  cycle_id: string;
  environment: string;
  plan_hash: string;
  plan_json: string;
  status: CycleRow["status"];
  verdict: CycleRow["verdict"];
  reason: string | null;
  calibration_json: string | null;
  started_at: string;
  ended_at: string | null;
  resumes: number;
}

/**
 * One environment's own database: a SQLite file in WAL mode with full fsync on commit. Every
 * Result is committed in its own transaction and is unique per (cycle, test), so a cycle that is
 * killed and resumed never loses nor duplicates a committed result.
 */
export class EnvStore {
  private readonly db: Database.Database;

  private constructor(
    readonly file: string,
    db: Database.Database,
  ) {
    this.db = db;
  }

  /** Opens (creating if needed) and migrates the database. */
  static open(file: string): EnvStore {
    let db: Database.Database;
    try {
      db = new Database(file);
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = FULL");
      db.pragma("foreign_keys = ON");
      db.pragma("busy_timeout = 5000");
    } catch (error) {
      throw storageError(file, "open the database", error);
    }
    const store = new EnvStore(file, db);
    store.migrate();
    return store;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  get schemaVersion(): number {
    return this.db.pragma("user_version", { simple: true }) as number;
  }

  private migrate(): void {
    const current = this.schemaVersion;
    if (current > SCHEMA_VERSION) {
      throw storageError(this.file, "use the database", {
        code: "SCHEMA_NEWER",
        message: `schema version ${current} is newer than this orchestrator's ${SCHEMA_VERSION}`,
      });
    }
    for (const m of MIGRATIONS.filter((x) => x.version > current)) {
      this.write(`apply migration ${m.version} (${m.name})`, () => {
        this.db.exec(m.sql);
        this.db.pragma(`user_version = ${m.version}`);
      });
    }
  }

  /** Runs `fn` in one immediate transaction, mapping SQLite failures to a clear error. */
  private write<T>(action: string, fn: () => T): T {
    try {
      return this.db.transaction(fn).immediate();
    } catch (error) {
      if ((error as { code?: string }).code?.startsWith("SQLITE_"))
        throw storageError(this.file, action, error);
      throw error;
    }
  }

  createCycle(cycleId: string, environment: string, plan: CyclePlan, startedAt: string): void {
    this.write("create the cycle", () => {
      this.db
        .prepare(
          `INSERT INTO cycles (cycle_id, environment, plan_hash, plan_json, status, started_at)
           VALUES (?, ?, ?, ?, 'running', ?)`,
        )
        .run(cycleId, environment, plan.hash, JSON.stringify(plan), startedAt);
    });
  }

  getCycle(cycleId: string): CycleRow | undefined {
    const raw = this.db.prepare("SELECT * FROM cycles WHERE cycle_id = ?").get(cycleId) as
      RawCycle | undefined;
    return raw ? toCycle(raw) : undefined;
  }

  listCycles(): CycleRow[] {
    return (this.db.prepare("SELECT * FROM cycles ORDER BY started_at, cycle_id").all() as RawCycle[]).map(
      toCycle,
    );
  }

  /** A cycle left `running` by a process that died. */
  unfinishedCycles(): CycleRow[] {
    return this.listCycles().filter((c) => c.status === "running");
  }

  markResumed(cycleId: string): void {
    this.write("mark the cycle resumed", () => {
      this.db
        .prepare("UPDATE cycles SET resumes = resumes + 1, status = 'running' WHERE cycle_id = ?")
        .run(cycleId);
    });
  }

  setCalibration(cycleId: string, calibration: NonNullable<CycleSummary["calibration"]>): void {
    this.write("store the calibration", () => {
      this.db
        .prepare("UPDATE cycles SET calibration_json = ? WHERE cycle_id = ?")
        .run(JSON.stringify(calibration), cycleId);
    });
  }

  finishCycle(
    cycleId: string,
    end: { status: CycleStatus; verdict: "passed" | "failed"; reason?: string; ended_at: string },
  ): void {
    this.write("finish the cycle", () => {
      this.db
        .prepare("UPDATE cycles SET status = ?, verdict = ?, reason = ?, ended_at = ? WHERE cycle_id = ?")
        .run(end.status, end.verdict, end.reason ?? null, end.ended_at, cycleId);
    });
  }

  /** Starts (or restarts, with the next attempt number) a phase; returns the attempt. */
  startPhase(cycleId: string, name: string, idx: number, startedAt: string): number {
    return this.write(`start phase ${name}`, () => {
      const prev = this.db
        .prepare("SELECT attempt FROM phases WHERE cycle_id = ? AND name = ?")
        .get(cycleId, name) as { attempt: number } | undefined;
      const attempt = (prev?.attempt ?? 0) + 1;
      this.db
        .prepare(
          `INSERT INTO phases (cycle_id, name, idx, attempt, status, started_at) VALUES (?, ?, ?, ?, 'running', ?)
           ON CONFLICT (cycle_id, name) DO UPDATE SET attempt = excluded.attempt, status = 'running',
             started_at = excluded.started_at, ended_at = NULL, summary_json = NULL`,
        )
        .run(cycleId, name, idx, attempt, startedAt);
      return attempt;
    });
  }

  /**
   * Commits a phase's summary (figures and gate verdict) together with the Results that exist only
   * because the phase finished (its load's), in one transaction: a phase killed before this point
   * leaves neither, and is run again on resume.
   */
  finishPhase(cycleId: string, summary: PhaseSummary, results: readonly Result[] = []): void {
    const checked = results.map((r) => Result.parse(r));
    this.write(`finish phase ${summary.name}`, () => {
      this.db
        .prepare(
          `INSERT INTO phases (cycle_id, name, idx, attempt, status, started_at, ended_at, summary_json)
           VALUES (?, ?, ?, 1, ?, ?, ?, ?)
           ON CONFLICT (cycle_id, name) DO UPDATE SET status = excluded.status, ended_at = excluded.ended_at,
             summary_json = excluded.summary_json`,
        )
        .run(
          cycleId,
          summary.name,
          summary.index,
          summary.status,
          summary.started_at,
          summary.ended_at,
          JSON.stringify(summary),
        );
      for (const r of checked) this.insertResult(r);
    });
  }

  phases(cycleId: string): PhaseRow[] {
    const rows = this.db.prepare("SELECT * FROM phases WHERE cycle_id = ? ORDER BY idx").all(cycleId) as {
      name: string;
      idx: number;
      attempt: number;
      status: PhaseRow["status"];
      started_at: string | null;
      ended_at: string | null;
      summary_json: string | null;
    }[];
    return rows.map((r) => ({
      name: r.name,
      idx: r.idx,
      attempt: r.attempt,
      status: r.status,
      started_at: r.started_at,
      ended_at: r.ended_at,
      summary: r.summary_json ? (JSON.parse(r.summary_json) as PhaseSummary) : null,
    }));
  }

  /**
   * Commits one Result in its own transaction. Returns false (and changes nothing) when a result
   * for the same (cycle, test) is already committed: a resumed cycle cannot duplicate one.
   */
  commitResult(result: Result): boolean {
    const checked = Result.parse(result);
    return this.write(`commit result ${checked.test_id}`, () => this.insertResult(checked));
  }

  /** Inserts one Result inside the caller's transaction; false when (cycle, test) already has one. */
  private insertResult(r: Result): boolean {
    const info = this.db
      .prepare(
        `INSERT INTO results (result_id, cycle_id, test_id, phase, status, result_json, committed_at)
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      )
      .run(
        r.result_id,
        r.cycle_id,
        r.test_id,
        r.phase,
        r.status,
        JSON.stringify(r),
        new Date().toISOString(),
      );
    return info.changes === 1;
  }

  committedTestIds(cycleId: string): Set<string> {
    const rows = this.db.prepare("SELECT test_id FROM results WHERE cycle_id = ?").all(cycleId) as {
      test_id: string;
    }[];
    return new Set(rows.map((r) => r.test_id));
  }

  /** Every committed Result of a cycle, in commit order, streamed. */
  *results(cycleId: string): Generator<Result> {
    const stmt = this.db.prepare("SELECT result_json FROM results WHERE cycle_id = ? ORDER BY rowid");
    for (const row of stmt.iterate(cycleId) as Iterable<{ result_json: string }>) {
      yield JSON.parse(row.result_json) as Result;
    }
  }

  countResults(cycleId: string): number {
    return (
      this.db.prepare("SELECT count(*) AS n FROM results WHERE cycle_id = ?").get(cycleId) as { n: number }
    ).n;
  }

  /** Rows per multi-row INSERT: one statement call for 64 samples instead of 64 (SQLite allows 32,766 parameters). */
  private static readonly SAMPLE_ROWS = 64;
  private sampleStatements: { one: Database.Statement; many: Database.Statement } | undefined;

  /** Inserts a batch of samples in one transaction (the unit the storage benchmark measures). */
  insertSamples(cycleId: string, attempt: number, samples: readonly Sample[]): void {
    if (samples.length === 0) return;
    const n = EnvStore.SAMPLE_ROWS;
    this.sampleStatements ??= {
      one: this.db.prepare(
        "INSERT INTO samples (cycle_id, attempt, ts_ms, phase, series, value) VALUES (?, ?, ?, ?, ?, ?)",
      ),
      many: this.db.prepare(
        `INSERT INTO samples (cycle_id, attempt, ts_ms, phase, series, value) VALUES ${Array(n).fill("(?, ?, ?, ?, ?, ?)").join(", ")}`,
      ),
    };
    const { one, many } = this.sampleStatements;
    this.write("store samples", () => {
      let i = 0;
      const params: unknown[] = new Array<unknown>(n * 6);
      for (; i + n <= samples.length; i += n) {
        for (let j = 0; j < n; j++) {
          const s = samples[i + j]!;
          const k = j * 6;
          params[k] = cycleId;
          params[k + 1] = attempt;
          params[k + 2] = s.ts_ms;
          params[k + 3] = s.phase;
          params[k + 4] = s.series;
          params[k + 5] = s.value;
        }
        many.run(params);
      }
      for (; i < samples.length; i++) {
        const s = samples[i]!;
        one.run(cycleId, attempt, s.ts_ms, s.phase, s.series, s.value);
      }
    });
  }

  /**
   * The samples that belong to the cycle's record: for each phase, those of its last attempt
   * (an interrupted attempt's samples describe a run that was redone), plus calibration samples.
   */
  *samples(cycleId: string): Generator<Sample> {
    const stmt = this.db.prepare(
      `SELECT s.ts_ms, s.phase, s.series, s.value FROM samples s
       LEFT JOIN phases p ON p.cycle_id = s.cycle_id AND p.name = s.phase
       WHERE s.cycle_id = ? AND (s.phase IS NULL OR s.attempt = p.attempt)
       ORDER BY s.rowid`,
    );
    yield* stmt.iterate(cycleId) as Iterable<Sample>;
  }

  /** One series' values in a phase's given attempt, in time order. */
  seriesValues(cycleId: string, phase: string, attempt: number, series: string): number[] {
    return (
      this.db
        .prepare(
          "SELECT value FROM samples WHERE cycle_id = ? AND phase = ? AND attempt = ? AND series = ? ORDER BY ts_ms",
        )
        .all(cycleId, phase, attempt, series) as { value: number }[]
    ).map((r) => r.value);
  }

  appendEvent(cycleId: string, event: CycleEvent): void {
    this.write(`record event ${event.kind}`, () => {
      const next = this.db
        .prepare("SELECT coalesce(max(seq), 0) + 1 AS seq FROM events WHERE cycle_id = ?")
        .get(cycleId) as {
        seq: number;
      };
      this.db
        .prepare(
          "INSERT INTO events (cycle_id, seq, ts_ms, phase, kind, scenario, detail_json) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .run(
          cycleId,
          next.seq,
          event.ts_ms,
          event.phase,
          event.kind,
          event.scenario ?? null,
          JSON.stringify(event.detail),
        );
    });
  }

  *events(cycleId: string): Generator<CycleEvent> {
    const stmt = this.db.prepare(
      "SELECT ts_ms, phase, kind, scenario, detail_json FROM events WHERE cycle_id = ? ORDER BY seq",
    );
    for (const r of stmt.iterate(cycleId) as Iterable<{
      ts_ms: number;
      phase: CycleEvent["phase"];
      kind: string;
      scenario: string | null;
      detail_json: string;
    }>) {
      yield {
        ts_ms: r.ts_ms,
        phase: r.phase,
        kind: r.kind,
        ...(r.scenario !== null ? { scenario: r.scenario } : {}),
        detail: JSON.parse(r.detail_json) as Record<string, unknown>,
      };
    }
  }

  recordBundle(b: { bundle_id: string; cycle_id: string; file: string; sha256: string; size: number }): void {
    this.write("record the bundle", () => {
      this.db
        .prepare(
          "INSERT INTO bundles (bundle_id, cycle_id, file, sha256, size, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .run(b.bundle_id, b.cycle_id, b.file, b.sha256, b.size, new Date().toISOString());
    });
  }

  bundles(cycleId?: string): {
    bundle_id: string;
    cycle_id: string;
    file: string;
    sha256: string;
    size: number;
    created_at: string;
  }[] {
    const sql = "SELECT * FROM bundles" + (cycleId ? " WHERE cycle_id = ?" : "") + " ORDER BY created_at";
    return (cycleId ? this.db.prepare(sql).all(cycleId) : this.db.prepare(sql).all()) as never;
  }

  /** `PRAGMA integrity_check`: "ok" for a sound database. */
  integrityCheck(): string {
    return (this.db.pragma("integrity_check") as { integrity_check: string }[])
      .map((r) => r.integrity_check)
      .join("; ");
  }
}

function toCycle(raw: RawCycle): CycleRow {
  return {
    cycle_id: raw.cycle_id,
    environment: raw.environment,
    plan_hash: raw.plan_hash,
    plan: JSON.parse(raw.plan_json) as CyclePlan,
    status: raw.status,
    verdict: raw.verdict,
    reason: raw.reason,
    calibration: raw.calibration_json
      ? (JSON.parse(raw.calibration_json) as CycleSummary["calibration"])
      : null,
    started_at: raw.started_at,
    ended_at: raw.ended_at,
    resumes: raw.resumes,
  };
}
