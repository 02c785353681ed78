import type { Insertable } from "kysely";
import type { OpenedBundle } from "../../bundle/reader.js";
import type { CycleEvent, CycleSummary } from "../../shared/cycle.js";
import type { Result } from "../../shared/result.js";
import type {
  BundlesTable,
  ContractChecksTable,
  EventsTable,
  FaultInjectionsTable,
  GateVerdictsTable,
  MetricsTable,
  PhasesTable,
  ResultsTable,
} from "../db/schema.js";

/** Pure mappings from a verified bundle's content to the rows the importer inserts. */

const bool = (b: boolean | null | undefined): number | null =>
  b === null || b === undefined ? null : b ? 1 : 0;

export function bundleRow(bundle: OpenedBundle, importedAt: string): Insertable<BundlesTable> {
  const { manifest: m, cycle } = bundle;
  return {
    bundle_id: m.bundle_id,
    cycle_id: m.cycle_id,
    environment_id: m.environment,
    tier: m.tier,
    suite_id: cycle.suite_id,
    region: m.region,
    region_role: m.region_role,
    plan_hash: m.plan_hash,
    config_hash: m.config_hash,
    created_at: m.created_at,
    started_at: cycle.started_at,
    ended_at: cycle.ended_at,
    status: cycle.status,
    verdict: cycle.verdict,
    reason: cycle.reason ?? null,
    saturation_rps: cycle.calibration?.saturation_rps ?? null,
    calibration: cycle.calibration ? JSON.stringify(cycle.calibration) : null,
    tools: JSON.stringify(m.tools),
    key_id: m.signing.key_id,
    archive_sha256: bundle.archive.sha256,
    archive_bytes: bundle.archive.bytes,
    manifest: bundle.manifestBytes.toString("utf8"),
    results_count: m.counts.results,
    samples_count: m.counts.samples,
    events_count: m.counts.events,
    imported_at: importedAt,
    environment_name: cycle.environment.name,
  };
}

export function phaseRows(bundleKey: number, cycle: CycleSummary): Insertable<PhasesTable>[] {
  return cycle.phases.map((p) => ({
    bundle_key: bundleKey,
    phase: p.name,
    phase_index: p.index,
    status: p.status,
    started_at: p.started_at,
    ended_at: p.ended_at,
    planned_duration_ms: p.planned_duration_ms,
    duration_ms: p.duration_ms,
    target_rps: p.load.target_rps,
    achieved_rps: p.load.achieved_rps,
    requests: p.load.requests,
    errors: p.load.errors,
    error_rate: p.load.error_rate,
    p50_ms: p.load.p50_ms,
    p95_ms: p.load.p95_ms,
    p99_ms: p.load.p99_ms,
    cpu_min: p.cpu?.min ?? null,
    cpu_max: p.cpu?.max ?? null,
    cpu_mean: p.cpu?.mean ?? null,
    cpu_p95: p.cpu?.p95 ?? null,
    cpu_reached: bool(p.cpu?.reached),
    mem_min: p.memory?.min ?? null,
    mem_max: p.memory?.max ?? null,
    mem_mean: p.memory?.mean ?? null,
    mem_p95: p.memory?.p95 ?? null,
    mem_reached: bool(p.memory?.reached),
    gate_verdict: p.gate.verdict,
  }));
}

export function gateRows(bundleKey: number, cycle: CycleSummary): Insertable<GateVerdictsTable>[] {
  return cycle.phases.flatMap((p) =>
    p.gate.rules.map((r) => ({
      bundle_key: bundleKey,
      rule_id: r.id,
      phase: p.name,
      check_name: r.check,
      source: r.source,
      action: r.action,
      metric: r.metric ?? null,
      op: r.op ?? null,
      threshold: r.threshold ?? null,
      observed: r.observed ?? null,
      outcome: r.outcome,
      note: r.note ?? null,
    })),
  );
}

export function resultRows(bundleKey: number, results: readonly Result[]): Insertable<ResultsTable>[] {
  return results.map((r) => ({
    result_id: r.result_id,
    bundle_key: bundleKey,
    test_id: r.test_id,
    test_name: r.test_name,
    phase: r.phase,
    tool: r.tool.name,
    tool_version: r.tool.version,
    contract: r.contract,
    status: r.status,
    reason: r.reason ?? null,
    validation_status: r.validation.status,
    parameters: JSON.stringify(r.parameters),
    errors: JSON.stringify(r.errors),
    raw: JSON.stringify(r.raw),
    started_at: r.timings.started_at,
    ended_at: r.timings.ended_at,
    duration_ms: r.timings.duration_ms,
    exit_code: r.exit_code,
    attempt: r.attempt,
  }));
}

export function metricRows(results: readonly Result[]): Insertable<MetricsTable>[] {
  return results.flatMap((r) =>
    Object.entries(r.metrics).map(([name, m]) => ({
      result_id: r.result_id,
      name,
      value_num: typeof m.value === "number" ? m.value : null,
      value_text: typeof m.value === "string" ? m.value : null,
      value_bool: typeof m.value === "boolean" ? (m.value ? 1 : 0) : null,
      unit: m.unit ?? null,
    })),
  );
}

export function checkRows(results: readonly Result[]): Insertable<ContractChecksTable>[] {
  return results.flatMap((r) =>
    Object.entries(r.validation.checks).map(([check, outcome]) => ({
      result_id: r.result_id,
      check_name: check,
      outcome,
    })),
  );
}

export function eventRows(bundleKey: number, events: readonly CycleEvent[]): Insertable<EventsTable>[] {
  return events.map((e, i) => ({
    bundle_key: bundleKey,
    seq: i + 1,
    ts_ms: e.ts_ms,
    phase: e.phase,
    kind: e.kind,
    scenario: e.scenario ?? null,
    detail: JSON.stringify(e.detail),
  }));
}

/**
 * Pairs each `fault.applied` with the next `fault.undone` of the same scenario, and with the next
 * `fault.recovery` of it (the orchestrator's detection and recovery measurement).
 */
export function faultRows(
  bundleKey: number,
  events: readonly CycleEvent[],
): Insertable<FaultInjectionsTable>[] {
  const open = new Map<string, Insertable<FaultInjectionsTable>>();
  const measuring = new Map<string, Insertable<FaultInjectionsTable>>();
  const rows: Insertable<FaultInjectionsTable>[] = [];
  const ms = (v: unknown): number | null =>
    typeof v === "number" && Number.isFinite(v) ? Math.round(v) : null;
  events.forEach((e, i) => {
    if (e.kind === "fault.applied" && e.scenario !== undefined) {
      const row = {
        bundle_key: bundleKey,
        seq: i + 1,
        phase: e.phase,
        scenario: e.scenario,
        applied_ms: e.ts_ms,
        undone_ms: null,
        detection_ms: null,
        recovery_ms: null,
      };
      rows.push(row);
      open.set(e.scenario, row);
      measuring.set(e.scenario, row);
    } else if (e.kind === "fault.undone" && e.scenario !== undefined) {
      const row = open.get(e.scenario);
      if (row) {
        row.undone_ms = e.ts_ms;
        open.delete(e.scenario);
      }
    } else if (e.kind === "fault.recovery" && e.scenario !== undefined) {
      const row = measuring.get(e.scenario);
      if (row) {
        row.detection_ms = ms(e.detail.detection_ms);
        row.recovery_ms = ms(e.detail.recovery_ms);
        measuring.delete(e.scenario);
      }
    }
  });
  return rows;
}
