import type { Insertable, Transaction } from "kysely";
import { ExitCode, TiersError } from "../../../tiers/errors.js";
import { BundleError } from "../../bundle/errors.js";
import type { Keyring } from "../../bundle/keyring.js";
import type { BundleLimits } from "../../bundle/limits.js";
import { openBundle, type OpenedBundle } from "../../bundle/reader.js";
import type { CycleEvent } from "../../shared/cycle.js";
import type { Result } from "../../shared/result.js";
import type { SpanRecord } from "../../shared/trace.js";
import { PhaseMetricAccumulator } from "../analysis/summaries.js";
import type { CentralDb } from "../db/connect.js";
import { describeDbError, isUniqueViolation } from "../db/errors.js";
import type { CentralDatabase } from "../db/schema.js";
import {
  bundleRow,
  checkRows,
  eventRows,
  faultRows,
  gateRows,
  metricRows,
  phaseRows,
  resultRows,
  spanRows,
} from "./rows.js";

/**
 * Points the importer reports (and a test may hold it at): after verification; inside the
 * transaction before the samples; inside it after them, before the statistics and the commit.
 */
export type ImportStage = "verified" | "loading_samples" | "samples_loaded";

export interface ImportOptions {
  readonly keyring: Keyring;
  readonly limits?: Partial<BundleLimits>;
  /** Where the bundle is extracted (beside the database, by `importDirFor`); stale extractions there are swept. */
  readonly workParent?: string;
  readonly onProgress?: (stage: ImportStage) => void | Promise<void>;
  /** Stops the import: the transaction rolls back, the extraction is removed, exit 130. */
  readonly signal?: AbortSignal;
}

export interface ImportOutcome {
  readonly status: "imported" | "already_imported";
  readonly file: string;
  readonly bundleId: string;
  readonly cycleId: string;
  readonly environment: string;
  readonly counts: { readonly results: number; readonly samples: number; readonly events: number };
  readonly ms: number;
}

type Trx = Transaction<CentralDatabase>;

/** An import stopped by its signal becomes exit 130 (nothing of the bundle was stored); other errors pass. */
function interruption(error: unknown, signal: AbortSignal | undefined): unknown {
  if (!signal?.aborted) return error;
  return new TiersError(ExitCode.Interrupted, "interrupted: the bundle being imported was not stored", {
    cause: error,
  });
}

/** Kysely multi-row inserts, chunked under both databases' bound-parameter limits. */
async function insertRows<T extends keyof CentralDatabase>(
  trx: Trx,
  table: T,
  rows: readonly Insertable<CentralDatabase[T]>[],
): Promise<void> {
  if (rows.length === 0) return;
  const perRow = Object.keys(rows[0]!).length;
  const chunk = Math.max(1, Math.floor(30_000 / perRow));
  for (let i = 0; i < rows.length; i += chunk)
    await trx
      .insertInto(table)
      .values(rows.slice(i, i + chunk))
      .execute();
}

/**
 * Whether this very bundle is stored already: true when a bundle with its id is stored with the
 * same signed manifest (the manifest lists every file's sha256, so the same content), false when
 * none is, and a `bundle_conflict` refusal when one is stored with other content.
 */
async function alreadyStored(db: Trx | CentralDb["db"], bundle: OpenedBundle): Promise<boolean> {
  const id = bundle.manifest.bundle_id;
  const stored = await db
    .selectFrom("bundles")
    .select(["manifest", "imported_at", "archive_sha256"])
    .where("bundle_id", "=", id)
    .executeTakeFirst();
  if (!stored) return false;
  if (stored.manifest === bundle.manifestBytes.toString("utf8")) return true;
  throw new BundleError(
    "bundle_conflict",
    `bundle ${id} is already stored (imported ${stored.imported_at}, archive sha256 ${stored.archive_sha256.slice(0, 16)}…) with other content: its manifest differs from this one's`,
  );
}

/** The refusal for what is already stored that this bundle would contradict, if anything. */
async function conflictWith(
  db: Trx | CentralDb["db"],
  bundle: OpenedBundle,
  results: readonly Result[],
): Promise<BundleError | undefined> {
  const m = bundle.manifest;
  const other = await db
    .selectFrom("bundles")
    .select("bundle_id")
    .where("cycle_id", "=", m.cycle_id)
    .where("environment_id", "=", m.environment)
    .executeTakeFirst();
  if (other)
    return new BundleError(
      "duplicate_cycle",
      `cycle ${m.cycle_id} of environment ${m.environment} is already stored from bundle ${other.bundle_id}`,
    );
  const cycle = await db
    .selectFrom("cycles")
    .selectAll()
    .where("cycle_id", "=", m.cycle_id)
    .executeTakeFirst();
  if (
    cycle &&
    (cycle.tier !== m.tier || cycle.plan_hash !== m.plan_hash || cycle.suite_id !== bundle.cycle.suite_id)
  )
    return new BundleError(
      "cycle_mismatch",
      `cycle ${m.cycle_id} is stored with tier ${cycle.tier}, suite ${cycle.suite_id}, plan ${cycle.plan_hash.slice(0, 12)}…; ` +
        `this bundle says tier ${m.tier}, suite ${bundle.cycle.suite_id}, plan ${m.plan_hash.slice(0, 12)}…`,
    );
  const ids = results.map((r) => r.result_id);
  for (let i = 0; i < ids.length; i += 500) {
    const taken = await db
      .selectFrom("results")
      .innerJoin("bundles", "bundles.bundle_key", "results.bundle_key")
      .select(["results.result_id", "bundles.bundle_id"])
      .where("results.result_id", "in", ids.slice(i, i + 500))
      .executeTakeFirst();
    if (taken)
      return new BundleError(
        "duplicate_result",
        `result ${taken.result_id} is already stored from bundle ${taken.bundle_id}`,
      );
  }
  return undefined;
}

async function load(
  cdb: CentralDb,
  bundle: OpenedBundle,
  results: readonly Result[],
  events: readonly CycleEvent[],
  spans: readonly SpanRecord[],
  options: ImportOptions,
) {
  await options.onProgress?.("verified");
  return cdb.transaction(async (trx, samples): Promise<ImportOutcome["status"]> => {
    const m = bundle.manifest;
    if (await alreadyStored(trx, bundle)) return "already_imported";
    const conflict = await conflictWith(trx, bundle, results);
    if (conflict) {
      // PostgreSQL (read committed) gives each statement a fresh snapshot: a concurrent import
      // of this very bundle may have committed between the first check and the conflict check.
      if (await alreadyStored(trx, bundle)) return "already_imported";
      throw conflict;
    }
    const now = new Date().toISOString();
    await trx
      .insertInto("environments")
      .values({ environment_id: m.environment, name: bundle.cycle.environment.name, first_seen_at: now })
      .onConflict((oc) => oc.column("environment_id").doNothing())
      .execute();
    await trx
      .insertInto("cycles")
      .values({
        cycle_id: m.cycle_id,
        tier: m.tier,
        suite_id: bundle.cycle.suite_id,
        plan_hash: m.plan_hash,
        started_at: bundle.cycle.started_at,
        first_imported_at: now,
      })
      .onConflict((oc) => oc.column("cycle_id").doNothing())
      .execute();
    const inserted = await trx
      .insertInto("bundles")
      .values(bundleRow(bundle, now))
      .onConflict((oc) => oc.column("bundle_id").doNothing())
      .returning("bundle_key")
      .executeTakeFirst();
    // PostgreSQL: another importer committed a bundle of this id while this one waited on the key.
    if (!inserted) {
      if (await alreadyStored(trx, bundle)) return "already_imported";
      throw new Error(`bundle ${m.bundle_id} was neither inserted nor found`);
    }
    const key = inserted.bundle_key;
    await insertRows(trx, "phases", phaseRows(key, bundle.cycle));
    await insertRows(trx, "gate_verdicts", gateRows(key, bundle.cycle));
    await insertRows(trx, "results", resultRows(key, results));
    await insertRows(trx, "metrics", metricRows(results));
    await insertRows(trx, "contract_checks", checkRows(results));
    await insertRows(trx, "events", eventRows(key, events));
    await insertRows(trx, "fault_injections", faultRows(key, events));
    await insertRows(trx, "spans", spanRows(key, spans));
    await options.onProgress?.("loading_samples");
    const stats = new PhaseMetricAccumulator();
    let seq = 1;
    for await (const batch of bundle.sampleBatches()) {
      options.signal?.throwIfAborted();
      await samples.write(key, seq, batch);
      stats.add(batch);
      seq += batch.length;
    }
    await samples.end();
    await options.onProgress?.("samples_loaded");
    await insertRows(trx, "metric_stats", stats.rows(key, results));
    return "imported";
  });
}

/**
 * Imports one bundle file. Before any write it verifies the archive, signature, checksums, sizes,
 * paths, schema version and cycle.json, and checks every result and event line; then it loads the
 * bundle in ONE transaction, checking each sample line as it streams in (a bad one is a refusal
 * like any other). A bundle id already stored is a no-op reported as `already_imported`. Any
 * failure — a refusal, a constraint, a kill — leaves nothing of the bundle behind.
 */
export async function importBundle(
  cdb: CentralDb,
  file: string,
  options: ImportOptions,
): Promise<ImportOutcome> {
  const started = performance.now();
  let bundle: OpenedBundle;
  try {
    bundle = await openBundle(file, { ...options, workParent: options.workParent ?? cdb.stagingDir });
  } catch (error) {
    throw interruption(error, options.signal);
  }
  try {
    const m = bundle.manifest;
    let results: Result[];
    let events: CycleEvent[];
    let spans: SpanRecord[];
    try {
      results = await bundle.readResults();
      events = await bundle.readEvents();
      spans = await bundle.readTraces();
    } catch (error) {
      throw interruption(error, options.signal);
    }
    let status: ImportOutcome["status"];
    try {
      status = await load(cdb, bundle, results, events, spans, options);
    } catch (error) {
      if (options.signal?.aborted || error instanceof BundleError) throw interruption(error, options.signal);
      if (!isUniqueViolation(error)) throw describeDbError(error, cdb.location) ?? error;
      // A concurrent importer committed first (PostgreSQL checks keys at insert): say what is stored now.
      if (await alreadyStored(cdb.db, bundle)) status = "already_imported";
      else throw (await conflictWith(cdb.db, bundle, results)) ?? error;
    }
    return {
      status,
      file,
      bundleId: m.bundle_id,
      cycleId: m.cycle_id,
      environment: m.environment,
      counts: m.counts,
      ms: performance.now() - started,
    };
  } finally {
    await bundle.close();
  }
}
