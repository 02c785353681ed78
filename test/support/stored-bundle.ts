/**
 * A bundle's content read back from the results database, in the bundle's own shapes (cycle.json,
 * results, events, samples), so a test can compare what was stored with what the bundle said.
 * Where the database does not keep an order (phases, gate rules, results), both sides are sorted;
 * `observed: null` and no `observed` are the same value to the database ("no figure").
 */
import type { CentralDb } from "../../workloads/central/db/connect.js";

type Json = Record<string, unknown>;

const optional = (key: string, value: unknown): Json =>
  value === null || value === undefined ? {} : { [key]: value };
const bool = (n: number | null) => (n === null ? null : n === 1);
const band = (
  min: number | null,
  max: number | null,
  mean: number | null,
  p95: number | null,
  reached: number | null,
) => (min === null && max === null ? null : { min, max, mean, p95, reached: bool(reached) });

export interface StoredContent {
  readonly manifest: string;
  readonly cycle: Json;
  readonly results: Json[];
  readonly events: Json[];
  readonly samples: Json[];
}

export async function readStoredBundle(cdb: CentralDb, bundleId: string): Promise<StoredContent> {
  const db = cdb.db;
  const b = await db
    .selectFrom("bundles")
    .selectAll()
    .where("bundle_id", "=", bundleId)
    .executeTakeFirstOrThrow();
  const key = b.bundle_key;
  const phases = await db.selectFrom("phases").selectAll().where("bundle_key", "=", key).execute();
  const gates = await db.selectFrom("gate_verdicts").selectAll().where("bundle_key", "=", key).execute();
  const results = await db.selectFrom("results").selectAll().where("bundle_key", "=", key).execute();
  const ids = results.map((r) => r.result_id);
  const metrics = ids.length
    ? await db.selectFrom("metrics").selectAll().where("result_id", "in", ids).execute()
    : [];
  const checks = ids.length
    ? await db.selectFrom("contract_checks").selectAll().where("result_id", "in", ids).execute()
    : [];
  const events = await db
    .selectFrom("events")
    .selectAll()
    .where("bundle_key", "=", key)
    .orderBy("seq")
    .execute();
  const samples = await db
    .selectFrom("samples")
    .selectAll()
    .where("bundle_key", "=", key)
    .orderBy("seq")
    .execute();
  const cycle: Json = {
    cycle_id: b.cycle_id,
    plan_hash: b.plan_hash,
    tier: b.tier,
    suite_id: b.suite_id,
    environment: { id: b.environment_id, name: b.environment_name, region: b.region, role: b.region_role },
    started_at: b.started_at,
    ended_at: b.ended_at,
    status: b.status,
    verdict: b.verdict,
    ...optional("reason", b.reason),
    calibration: b.calibration === null ? null : (JSON.parse(b.calibration) as unknown),
    phases: phases.map((p) => ({
      name: p.phase,
      index: p.phase_index,
      status: p.status,
      started_at: p.started_at,
      ended_at: p.ended_at,
      planned_duration_ms: p.planned_duration_ms,
      duration_ms: p.duration_ms,
      load: {
        target_rps: p.target_rps,
        achieved_rps: p.achieved_rps,
        requests: p.requests,
        errors: p.errors,
        error_rate: p.error_rate,
        p50_ms: p.p50_ms,
        p95_ms: p.p95_ms,
        p99_ms: p.p99_ms,
      },
      cpu: band(p.cpu_min, p.cpu_max, p.cpu_mean, p.cpu_p95, p.cpu_reached),
      memory: band(p.mem_min, p.mem_max, p.mem_mean, p.mem_p95, p.mem_reached),
      gate: {
        verdict: p.gate_verdict,
        rules: gates
          .filter((g) => g.phase === p.phase)
          .map((g) => ({
            id: g.rule_id,
            check: g.check_name,
            source: g.source,
            action: g.action,
            ...optional("metric", g.metric),
            ...optional("op", g.op),
            ...optional("threshold", g.threshold),
            ...optional("observed", g.observed),
            outcome: g.outcome,
            ...optional("note", g.note),
          })),
      },
    })),
  };
  return {
    manifest: b.manifest,
    cycle: normalizeCycle(cycle),
    results: sortResults(
      results.map((r) => ({
        result_id: r.result_id,
        test_id: r.test_id,
        test_name: r.test_name,
        cycle_id: b.cycle_id,
        environment: b.environment_id,
        phase: r.phase,
        tool: { name: r.tool, version: r.tool_version },
        contract: r.contract,
        parameters: JSON.parse(r.parameters) as unknown,
        metrics: Object.fromEntries(
          metrics
            .filter((m) => m.result_id === r.result_id)
            .map((m) => [
              m.name,
              {
                value: m.value_num ?? m.value_text ?? bool(m.value_bool),
                ...optional("unit", m.unit),
              },
            ]),
        ),
        validation: {
          status: r.validation_status,
          checks: Object.fromEntries(
            checks.filter((c) => c.result_id === r.result_id).map((c) => [c.check_name, c.outcome]),
          ),
        },
        status: r.status,
        ...optional("reason", r.reason),
        errors: JSON.parse(r.errors) as unknown,
        raw: JSON.parse(r.raw) as unknown,
        timings: { started_at: r.started_at, ended_at: r.ended_at, duration_ms: r.duration_ms },
        exit_code: r.exit_code,
        attempt: r.attempt,
      })),
    ),
    events: events.map((e) => ({
      ts_ms: e.ts_ms,
      phase: e.phase,
      kind: e.kind,
      ...optional("scenario", e.scenario),
      detail: JSON.parse(e.detail) as unknown,
    })),
    samples: samples.map((s) => ({ ts_ms: s.ts_ms, phase: s.phase, series: s.series, value: s.value })),
  };
}

const byKey = (k: string) => (a: Json, b: Json) => String(a[k]).localeCompare(String(b[k]));

/** The same normalisation for what a bundle says: JSON's own value semantics, unordered phases and rules. */
export function normalizeCycle(cycle: Json): Json {
  const c = JSON.parse(JSON.stringify(cycle)) as Json;
  const phases = (c.phases as Json[]).map((p) => {
    const gate = p.gate as { verdict: string; rules: Json[] };
    const rules = gate.rules.map((r) => {
      const { observed, ...rest } = r;
      return observed === null ? rest : r;
    });
    return { ...p, gate: { ...gate, rules: rules.sort(byKey("id")) } };
  });
  return { ...c, phases: phases.sort(byKey("name")) };
}

export function sortResults(results: Json[]): Json[] {
  return (JSON.parse(JSON.stringify(results)) as Json[]).sort(byKey("result_id"));
}
