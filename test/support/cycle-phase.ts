/** One phase of a generated cycle: its events, its tests' results and its summary with gate outcomes. */
import { applyRules } from "../../tiers/contracts/compile.js";
import type { PlanTest } from "../../tiers/plan/schema.js";
import type { CycleEvent, GateOutcome, PhaseSummary } from "../../workloads/shared/cycle.js";
import type { MetricValue, Result } from "../../workloads/shared/result.js";
import { gaussian, meanTarget, seededUuid, type PhaseModel, type Tick } from "./cycle-model.js";

const iso = (ms: number) => new Date(ms).toISOString();

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  return (
    sorted[lo]! + (h - lo) * ((sorted[Math.min(lo + 1, sorted.length - 1)] ?? sorted[lo]!) - sorted[lo]!)
  );
}

function toolMetrics(
  test: PlanTest,
  m: PhaseModel,
  mean: Tick,
  random: () => number,
): Record<string, MetricValue> {
  const n = (v: number, unit: string): MetricValue => ({ value: Number(v.toFixed(3)), unit });
  const jitter = () => 1 + 0.03 * gaussian(random);
  switch (test.tool) {
    case "http-load": {
      const duration = (test.duration_ms ?? m.endMs - m.startMs) / 1000;
      const rps = test.id.endsWith("/load") ? mean.rps : Number(test.parameters.rps ?? 20) * jitter();
      const requests = Math.round(rps * duration);
      const errors = test.id.endsWith("/load") ? Math.round(mean.errors * duration) : 0;
      return {
        rps: n(rps, "req/sec"),
        requests: { value: requests, unit: "count" },
        latency_p50: n(mean.p50 * jitter(), "ms"),
        latency_p90: n(mean.p95 * 0.8 * jitter(), "ms"),
        latency_p95: n(mean.p95 * jitter(), "ms"),
        latency_p99: n(mean.p99 * jitter(), "ms"),
        latency_max: n(mean.p99 * 2.4 * jitter(), "ms"),
        errors: { value: errors, unit: "count" },
        error_rate: n(requests > 0 ? errors / requests : 0, "ratio"),
      };
    }
    case "iperf3":
      return {
        bandwidth: n(24e9 * (1 - 0.5 * (mean.cpu / 100)) * jitter(), "bits/sec"),
        bandwidth_sent: n(24.1e9 * (1 - 0.5 * (mean.cpu / 100)) * jitter(), "bits/sec"),
        retransmits: { value: Math.round(Math.abs(3 * gaussian(random))), unit: "count" },
        cpu_utilization_percent: n(38 + 10 * (mean.cpu / 100) * jitter(), "percent"),
      };
    case "fio":
      return {
        read_iops: n(41000 * (1 - 0.4 * (mean.cpu / 100)) * jitter(), "ops/sec"),
        write_iops: n(40800 * (1 - 0.4 * (mean.cpu / 100)) * jitter(), "ops/sec"),
        read_bw: n(168e6 * jitter(), "bytes/sec"),
        write_bw: n(167e6 * jitter(), "bytes/sec"),
        read_clat_p50: n(11.5 * jitter(), "us"),
        read_clat_p99: n(33 * jitter(), "us"),
        write_clat_p50: n(12.2 * jitter(), "us"),
        write_clat_p99: n(41 * jitter(), "us"),
        errors: { value: 0, unit: "count" },
      };
    case "stress-ng":
      return {
        bogo_ops: n(5200 * (1 - 0.8 * (mean.cpu / 100)) * jitter(), "count"),
        bogo_ops_per_sec_real: n(2600 * (1 - 0.8 * (mean.cpu / 100)) * jitter(), "ops/sec"),
        wall_clock: n(2.0, "s"),
        user_time: n(1.97 * jitter(), "s"),
        system_time: n(0.01, "s"),
      };
    default:
      return { value: n(random() * 100, "count") };
  }
}

/** phase.started, each fault applied (with a SUT restart for pod kills) and undone, phase.ended. */
export function phaseEvents(m: PhaseModel): CycleEvent[] {
  const events: CycleEvent[] = [];
  events.push({
    ts_ms: m.startMs,
    phase: m.phase.name,
    kind: "phase.started",
    detail: { index: m.phase.index },
  });
  for (const f of m.faults) {
    events.push({
      ts_ms: f.from,
      phase: m.phase.name,
      kind: "fault.applied",
      scenario: f.scenario,
      detail: { target: "sut" },
    });
    if (f.scenario === "pod_kill")
      events.push({
        ts_ms: f.from + 40,
        phase: m.phase.name,
        kind: "sut.restarted",
        detail: { after_ms: 40 },
      });
    events.push({
      ts_ms: f.to,
      phase: m.phase.name,
      kind: "fault.undone",
      scenario: f.scenario,
      detail: {},
    });
  }
  events.push({ ts_ms: m.endMs, phase: m.phase.name, kind: "phase.ended", detail: {} });

  return events;
}

/** One result per planned test, plus the phase's own load, with contract validation applied. */
export function phaseResults(
  m: PhaseModel,
  mean: Tick,
  random: () => number,
  ids: { readonly cycleId: string; readonly environment: string },
): { results: Result[]; raw: Map<string, string>; contractFailed: boolean } {
  const results: Result[] = [];
  const raw = new Map<string, string>();
  const tests: PlanTest[] = [...m.phase.tests];
  if (m.phase.load.kind !== "none")
    tests.unshift({
      id: `${m.phase.name}/load`,
      name: "load",
      tool: "http-load",
      contract: "HttpLoadContract",
      parameters: {},
      rules: { error_rate: { max: 0.1 } },
      timeout_ms: m.phase.duration_ms,
    });
  let contractFailed = false;
  tests.forEach((test, i) => {
    const metrics = toolMetrics(test, m, mean, random);
    const validation = applyRules(
      test.rules,
      Object.fromEntries(Object.entries(metrics).map(([n, v]) => [n, v.value])),
    );
    contractFailed ||= validation.status === "failed";
    const resultId = seededUuid(random);
    const started = m.startMs + Math.round(((i + 0.5) * m.phase.duration_ms) / (tests.length + 1));
    const duration = Math.min(test.duration_ms ?? 2000, m.phase.duration_ms);
    const stdout = `raw/${resultId}.stdout`;
    raw.set(
      resultId + ".stdout",
      JSON.stringify({
        tool: test.tool,
        metrics: Object.fromEntries(Object.entries(metrics).map(([n, v]) => [n, v.value])),
      }),
    );
    results.push({
      result_id: resultId,
      test_id: test.id,
      test_name: test.name,
      cycle_id: ids.cycleId,
      environment: ids.environment,
      phase: m.phase.name,
      tool: {
        name: test.tool,
        version: {
          "http-load": "autocannon 8.0.0",
          iperf3: "3.12",
          fio: "fio-3.33",
          "stress-ng": "0.15.06",
          elbencho: null,
          command: null,
        }[test.tool],
      },
      contract: test.contract,
      parameters: test.parameters,
      metrics,
      validation,
      status: validation.status === "passed" ? "passed" : "failed",
      ...(validation.status === "failed"
        ? {
            reason: `contract rule failed: ${Object.entries(validation.checks)
              .filter(([, v]) => v === "failed")
              .map(([c]) => c)
              .join(", ")}`,
          }
        : {}),
      errors: [],
      raw: { stdout },
      timings: { started_at: iso(started), ended_at: iso(started + duration), duration_ms: duration },
      exit_code: 0,
      attempt: 1,
    });
  });

  return { results, raw, contractFailed };
}

/** The phase's summary: load figures, CPU/memory bands, and every gate rule's outcome. */
export function phaseSummary(
  m: PhaseModel,
  values: Record<string, number[]>,
  mean: Tick,
  contractFailed: boolean,
): PhaseSummary {
  const band = (values: number[] | undefined, b: { min: number; max: number } | null) => {
    if (!b || !values?.length) return null;
    const sorted = [...values].sort((x, y) => x - y);
    const meanV = values.reduce((x, y) => x + y, 0) / values.length;
    return {
      min: b.min,
      max: b.max,
      mean: Number(meanV.toFixed(3)),
      p95: Number(percentile(sorted, 0.95).toFixed(3)),
      reached: meanV >= b.min && meanV <= b.max,
    };
  };
  const cpu = band(values["sut.cpu_pct"], m.phase.cpu_band);
  const memory = band(values["sut.mem_pct"], m.phase.memory_band);
  const seconds = (m.endMs - m.startMs) / 1000;
  const requests = Math.round(mean.rps * seconds);
  const errors = Math.round(mean.errors * seconds);
  const errorRate = requests > 0 ? errors / requests : null;
  const observed: Record<string, number | null> = {
    error_rate: errorRate,
    p95_latency_ms: m.phase.load.kind === "none" ? null : mean.p95,
  };
  const rules: GateOutcome[] = m.phase.gate.map((r) => {
    let outcome: GateOutcome["outcome"] = "pass";
    let value: number | null | undefined;
    let note: string | undefined;
    if (r.check === "metric") {
      value = observed[r.metric ?? ""];
      if (value === undefined || value === null) {
        outcome = "not_evaluated";
        note = `no ${r.metric} in this phase`;
      } else {
        const t = r.threshold ?? 0;
        const broke = {
          ">": value > t,
          ">=": value >= t,
          "<": value < t,
          "<=": value <= t,
          "==": value === t,
        }[r.op ?? ">"];
        outcome = broke ? "fail" : "pass";
      }
    } else if (r.check === "contract_failed") outcome = contractFailed ? "fail" : "pass";
    else if (r.check === "band_missed")
      outcome = cpu?.reached === false || memory?.reached === false ? "fail" : "pass";
    return {
      id: r.id,
      check: r.check,
      source: r.source,
      action: r.action,
      ...(r.metric ? { metric: r.metric, op: r.op, threshold: r.threshold } : {}),
      ...(value !== undefined ? { observed: value === null ? null : Number(value.toFixed(4)) } : {}),
      outcome,
      ...(note ? { note } : {}),
    };
  });
  const aborted = rules.some((r) => r.outcome === "fail" && r.action === "abort");
  const warned = rules.some((r) => r.outcome === "fail" && r.action === "warn");
  return {
    name: m.phase.name,
    index: m.phase.index,
    status: "completed",
    started_at: iso(m.startMs),
    ended_at: iso(m.endMs),
    planned_duration_ms: m.phase.duration_ms,
    duration_ms: m.endMs - m.startMs,
    load: {
      target_rps: m.phase.load.kind === "none" ? null : Number(meanTarget(m).toFixed(2)),
      achieved_rps: m.phase.load.kind === "none" ? null : Number(mean.rps.toFixed(2)),
      requests,
      errors,
      error_rate: errorRate === null ? null : Number(errorRate.toFixed(6)),
      p50_ms: m.phase.load.kind === "none" ? null : Number(mean.p50.toFixed(3)),
      p95_ms: m.phase.load.kind === "none" ? null : Number(mean.p95.toFixed(3)),
      p99_ms: m.phase.load.kind === "none" ? null : Number(mean.p99.toFixed(3)),
    },
    cpu,
    memory,
    gate: { verdict: aborted ? "aborted" : warned ? "warned" : "passed", rules },
  };
}
