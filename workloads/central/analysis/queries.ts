import type { Kysely, Selectable } from "kysely";
import { ExitCode, TiersError } from "../../../tiers/errors.js";
import type { BundlesTable, CentralDatabase, CyclesTable } from "../db/schema.js";

/** Reads for analysis and reports: every query the analysis makes is here, through Kysely. */

type Db = Kysely<CentralDatabase>;
export type StoredBundle = Selectable<BundlesTable>;
export type StoredCycle = Selectable<CyclesTable>;

export interface CycleRecord {
  readonly cycle: StoredCycle;
  /** Primary region first, then by environment id. */
  readonly bundles: readonly StoredBundle[];
}

const ROLE_ORDER: Record<string, number> = { primary: 0, secondary: 1, tertiary: 2 };

/** A cycle and its bundles; the most recently started cycle when no id is given. */
export async function loadCycle(db: Db, cycleId?: string): Promise<CycleRecord> {
  const cycle = cycleId
    ? await db.selectFrom("cycles").selectAll().where("cycle_id", "=", cycleId).executeTakeFirst()
    : await db
        .selectFrom("cycles")
        .selectAll()
        .orderBy("started_at", "desc")
        .orderBy("cycle_id", "desc")
        .executeTakeFirst();
  if (!cycle) {
    const known = await db
      .selectFrom("cycles")
      .select("cycle_id")
      .orderBy("started_at", "desc")
      .limit(5)
      .execute();
    throw new TiersError(
      ExitCode.InvalidConfig,
      cycleId
        ? `no cycle ${cycleId} in the results database (latest: ${known.map((k) => k.cycle_id).join(", ") || "none"})`
        : "the results database holds no cycles yet; import bundles first",
    );
  }
  const bundles = await db.selectFrom("bundles").selectAll().where("cycle_id", "=", cycle.cycle_id).execute();
  bundles.sort(
    (a, b) =>
      (ROLE_ORDER[a.region_role] ?? 9) - (ROLE_ORDER[b.region_role] ?? 9) ||
      a.environment_id.localeCompare(b.environment_id),
  );
  return { cycle, bundles };
}

/** The last cycle of the same tier and suite, started before `before`, whose every bundle passed. */
export async function lastPassingCycleBefore(db: Db, cycle: StoredCycle): Promise<string | undefined> {
  const candidates = await db
    .selectFrom("cycles")
    .select("cycle_id")
    .where("tier", "=", cycle.tier)
    .where("suite_id", "=", cycle.suite_id)
    .where("started_at", "<", cycle.started_at)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom("bundles")
            .select("bundle_key")
            .whereRef("bundles.cycle_id", "=", "cycles.cycle_id")
            .where("bundles.verdict", "!=", "passed"),
        ),
      ),
    )
    .orderBy("started_at", "desc")
    .limit(1)
    .execute();
  return candidates[0]?.cycle_id;
}

export interface SampleRow {
  readonly bundle_key: number;
  readonly ts_ms: number;
  readonly phase: string | null;
  readonly series: string;
  readonly value: number;
}

export async function samplesOf(db: Db, bundleKeys: readonly number[]): Promise<SampleRow[]> {
  if (bundleKeys.length === 0) return [];
  return db
    .selectFrom("samples")
    .select(["bundle_key", "ts_ms", "phase", "series", "value"])
    .where("bundle_key", "in", [...bundleKeys])
    .orderBy("bundle_key")
    .orderBy("seq")
    .execute();
}

/** bundle → phase → series → values (samples outside phases are left out). */
export function groupSamples(rows: readonly SampleRow[]): Map<number, Map<string, Map<string, number[]>>> {
  const out = new Map<number, Map<string, Map<string, number[]>>>();
  for (const r of rows) {
    if (r.phase === null) continue;
    let byPhase = out.get(r.bundle_key);
    if (!byPhase) out.set(r.bundle_key, (byPhase = new Map<string, Map<string, number[]>>()));
    let bySeries = byPhase.get(r.phase);
    if (!bySeries) byPhase.set(r.phase, (bySeries = new Map<string, number[]>()));
    let values = bySeries.get(r.series);
    if (!values) bySeries.set(r.series, (values = []));
    values.push(r.value);
  }
  return out;
}

export async function phasesOf(db: Db, bundleKeys: readonly number[]) {
  if (bundleKeys.length === 0) return [];
  return db
    .selectFrom("phases")
    .selectAll()
    .where("bundle_key", "in", [...bundleKeys])
    .orderBy("bundle_key")
    .orderBy("phase_index")
    .execute();
}

export async function gatesOf(db: Db, bundleKeys: readonly number[]) {
  if (bundleKeys.length === 0) return [];
  return db
    .selectFrom("gate_verdicts")
    .selectAll()
    .where("bundle_key", "in", [...bundleKeys])
    .orderBy("bundle_key")
    .orderBy("rule_id")
    .execute();
}

export async function statsOf(db: Db, bundleKeys: readonly number[]) {
  if (bundleKeys.length === 0) return [];
  return db
    .selectFrom("metric_stats")
    .selectAll()
    .where("bundle_key", "in", [...bundleKeys])
    .orderBy("bundle_key")
    .orderBy("metric")
    .orderBy("phase")
    .execute();
}

export async function faultsOf(db: Db, bundleKeys: readonly number[]) {
  if (bundleKeys.length === 0) return [];
  return db
    .selectFrom("fault_injections")
    .selectAll()
    .where("bundle_key", "in", [...bundleKeys])
    .orderBy("applied_ms")
    .orderBy("bundle_key")
    .orderBy("seq")
    .execute();
}

/** Results with their contract checks, one row per check (results without checks appear once). */
export async function contractChecksOf(db: Db, bundleKeys: readonly number[]) {
  if (bundleKeys.length === 0) return [];
  return db
    .selectFrom("results")
    .leftJoin("contract_checks", "contract_checks.result_id", "results.result_id")
    .select([
      "results.bundle_key",
      "results.result_id",
      "results.phase",
      "results.test_id",
      "results.test_name",
      "results.tool",
      "results.contract",
      "results.status",
      "results.reason",
      "results.duration_ms",
      "contract_checks.check_name",
      "contract_checks.outcome",
    ])
    .where("results.bundle_key", "in", [...bundleKeys])
    .orderBy("results.bundle_key")
    .orderBy("results.started_at")
    .orderBy("results.result_id")
    .orderBy("contract_checks.check_name")
    .execute();
}

export interface HistoryRow {
  readonly cycle_id: string;
  readonly started_at: string;
  readonly environment_id: string;
  readonly phase: string;
  readonly metric: string;
  readonly p50: number;
}

/** The p50 of `metrics` per cycle, environment and phase, for every cycle of a tier and suite up to `until`. */
export async function historyOf(
  db: Db,
  cycle: StoredCycle,
  metrics: readonly string[],
): Promise<HistoryRow[]> {
  return db
    .selectFrom("metric_stats")
    .innerJoin("bundles", "bundles.bundle_key", "metric_stats.bundle_key")
    .innerJoin("cycles", "cycles.cycle_id", "bundles.cycle_id")
    .select([
      "cycles.cycle_id",
      "cycles.started_at",
      "bundles.environment_id",
      "metric_stats.phase",
      "metric_stats.metric",
      "metric_stats.p50",
    ])
    .where("cycles.tier", "=", cycle.tier)
    .where("cycles.suite_id", "=", cycle.suite_id)
    .where("cycles.started_at", "<=", cycle.started_at)
    .where("metric_stats.metric", "in", [...metrics])
    .orderBy("cycles.started_at")
    .orderBy("cycles.cycle_id")
    .execute();
}
