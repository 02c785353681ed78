/**
 * Realistic, seeded cycle data for tests, benchmarks and the documentation screenshot: what an
 * environment's orchestrator would record for a real plan (`compilePlan` of a real tier), with a
 * simple load model — CPU follows the achieved rate, latency grows as utilisation approaches
 * saturation, errors appear at the extreme and under the chaos phase's faults. Knobs shift latency
 * or CPU so comparisons and change-point detection have something real to find.
 */
import { applyRules } from "../../tiers/contracts/compile.js";
import { resolvePlanOptions } from "../../tiers/plan/options.js";
import { compilePlan } from "../../tiers/plan/compile.js";
import { seededRandom } from "../../tiers/plan/random.js";
import type { CyclePlan, PlanEnvironment, PlanPhase, PlanTest } from "../../tiers/plan/schema.js";
import type { TierName } from "../../tiers/schema/names.js";
import type {
  CycleEvent,
  CycleSummary,
  GateOutcome,
  PhaseSummary,
  Sample,
} from "../../workloads/shared/cycle.js";
import type { MetricValue, Result } from "../../workloads/shared/result.js";

export interface CycleKnobs {
  readonly tier?: TierName;
  readonly seed?: number;
  readonly cycleId?: string;
  /** Which environment of the plan (0-based). */
  readonly environment?: number;
  readonly startMs?: number;
  /** Phase durations × this (the plan's time scale). */
  readonly timeScale?: number;
  readonly sampleIntervalMs?: number;
  /** Multiplies every latency (1 = as modelled). */
  readonly latencyFactor?: number;
  /** Multiplies CPU use. */
  readonly cpuFactor?: number;
  readonly saturationRps?: number;
}

export interface GeneratedCycle {
  readonly plan: CyclePlan;
  readonly env: PlanEnvironment;
  readonly summary: CycleSummary;
  readonly results: Result[];
  readonly events: CycleEvent[];
  readonly raw: Map<string, string>;
  /** Streams the samples in time order; nothing is kept. */
  samples(): Generator<Sample>;
  readonly sampleCount: number;
}

const plans = new Map<string, CyclePlan>();

export function planFor(tier: TierName, timeScale: number): CyclePlan {
  const key = `${tier}@${timeScale}`;
  let plan = plans.get(key);
  if (!plan) {
    const resolved = resolvePlanOptions({ defaults: { tier, load_mode: "relative", time_scale: timeScale } });
    plan = compilePlan({ resolved });
    plans.set(key, plan);
  }
  return plan;
}

/** A v4-shaped uuid from a seeded generator. */
export function seededUuid(random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16));
  hex[12] = "4";
  hex[16] = ((Math.floor(random() * 4) & 0x3) | 0x8).toString(16);
  const h = hex.join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function hashText(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

interface PhaseModel {
  readonly phase: PlanPhase;
  readonly startMs: number;
  readonly endMs: number;
  /** Target rate at an offset into the phase. */
  readonly targetAt: (offsetMs: number) => number;
  readonly faults: { from: number; to: number; scenario: string }[];
}

function phaseModels(env: PlanEnvironment, startMs: number, saturation: number): PhaseModel[] {
  let t = startMs;
  return env.phases.map((phase) => {
    const start = t;
    t += phase.duration_ms;
    const load = phase.load;
    const targetAt = (offset: number): number => {
      if (load.kind === "none") return 0;
      if (load.kind === "constant") return (load.fraction ?? 0) * saturation;
      let f = load.steps[0]!.fraction ?? 0;
      for (const s of load.steps) if (s.at_ms <= offset) f = s.fraction ?? 0;
      return f * saturation;
    };
    const faults = phase.faults.map((f) => ({
      from: start + f.at_ms,
      to: start + f.at_ms + f.duration_ms,
      scenario: f.scenario,
    }));
    return { phase, startMs: start, endMs: t, targetAt, faults };
  });
}

/** The series every sample tick records (the idle phase has no latency series). */
export const SAMPLE_SERIES = [
  "load.rps",
  "load.p50_ms",
  "load.p95_ms",
  "load.p99_ms",
  "load.errors",
  "sut.cpu_pct",
  "sut.mem_pct",
  "sut.rss_bytes",
] as const;

interface Tick {
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  errors: number;
  cpu: number;
  mem: number;
}

function tickAt(
  m: PhaseModel,
  ts: number,
  saturation: number,
  k: Required<CycleKnobs>,
  random: () => number,
): Tick {
  const target = m.targetAt(ts - m.startMs);
  const faulted = m.faults.some((f) => ts >= f.from && ts < f.to);
  const rps = Math.max(0, target * (0.985 + 0.01 * gaussian(random)) * (faulted ? 0.7 : 1));
  const u = Math.min(rps / saturation, 0.97);
  const p50 =
    (3.2 / (1 - 0.85 * u)) * k.latencyFactor * Math.exp(0.05 * gaussian(random)) * (faulted ? 2.5 : 1);
  const p95 = p50 * (2.1 + 0.1 * gaussian(random));
  const p99 = p95 * (1.6 + 0.1 * Math.abs(gaussian(random)));
  const errorRate = (u > 0.85 ? 0.002 : 0) + (faulted ? 0.04 : 0);
  const errors = Math.round(rps * errorRate * Math.abs(1 + 0.2 * gaussian(random)));
  const cpu = Math.min(100, Math.max(0.3, (1.5 + 95 * u) * k.cpuFactor + 1.2 * gaussian(random)));
  const band = m.phase.memory_band ?? { min: 0, max: 10 };
  const mem = Math.max(1, (band.min + band.max) / 2 + (band.max - band.min) * 0.15 * gaussian(random));
  return { rps, p50, p95, p99, errors, cpu, mem };
}

const MEMORY_BYTES = 16 * 2 ** 30;

function* sampleStream(models: PhaseModel[], saturation: number, k: Required<CycleKnobs>): Generator<Sample> {
  const random = seededRandom(k.seed * 7919 + hashText(`${k.cycleId}/${k.environment}/samples`));
  for (const m of models) {
    for (let ts = m.startMs; ts < m.endMs; ts += k.sampleIntervalMs) {
      const t = tickAt(m, ts, saturation, k, random);
      const phase = m.phase.name;
      const idle = m.phase.load.kind === "none";
      const values: Record<(typeof SAMPLE_SERIES)[number], number | undefined> = {
        "load.rps": t.rps,
        "load.p50_ms": idle ? undefined : t.p50,
        "load.p95_ms": idle ? undefined : t.p95,
        "load.p99_ms": idle ? undefined : t.p99,
        "load.errors": t.errors,
        "sut.cpu_pct": t.cpu,
        "sut.mem_pct": t.mem,
        "sut.rss_bytes": Math.round((t.mem / 100) * MEMORY_BYTES),
      };
      for (const series of SAMPLE_SERIES) {
        const value = values[series];
        if (value !== undefined) yield { ts_ms: ts, phase, series, value: Number(value.toFixed(4)) };
      }
    }
  }
}

/** The phase's target rate averaged over its duration (a variable phase's steps weighted by time). */
function meanTarget(m: PhaseModel): number {
  const step = 100;
  let sum = 0;
  let n = 0;
  for (let t = 0; t < m.endMs - m.startMs; t += step, n++) sum += m.targetAt(t);
  return n ? sum / n : 0;
}

function countSamples(models: PhaseModel[], intervalMs: number): number {
  let n = 0;
  for (const m of models) {
    const ticks = Math.ceil((m.endMs - m.startMs) / intervalMs);
    n += ticks * (m.phase.load.kind === "none" ? SAMPLE_SERIES.length - 3 : SAMPLE_SERIES.length);
  }
  return n;
}

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

/** Generates one environment's cycle; equal knobs give equal data. */
export function generateCycle(knobs: CycleKnobs = {}): GeneratedCycle {
  const k: Required<CycleKnobs> = {
    tier: "stress",
    seed: 1,
    cycleId: "c0001",
    environment: 0,
    startMs: Date.UTC(2025, 0, 6, 9, 0, 0),
    timeScale: 0.02,
    sampleIntervalMs: 1000,
    latencyFactor: 1,
    cpuFactor: 1,
    saturationRps: 2400,
    ...knobs,
  };
  const plan = planFor(k.tier, k.timeScale);
  const env = plan.environments[k.environment];
  if (!env) throw new Error(`tier ${k.tier} has no environment ${k.environment}`);
  // Every (seed, cycle, environment) gets its own stream, so result ids never repeat across them.
  const random = seededRandom(k.seed * 1_000_003 + hashText(`${k.cycleId}/${k.environment}`));
  const saturation = k.saturationRps * (1 + 0.01 * gaussian(random));
  const models = phaseModels(env, k.startMs + 60_000, saturation);
  const iso = (ms: number) => new Date(ms).toISOString();

  // Per-phase aggregates from the same stream the bundle gets.
  const agg = new Map<string, Record<string, number[]>>();
  for (const s of sampleStream(models, saturation, k)) {
    const byPhase = agg.get(s.phase!) ?? {};
    (byPhase[s.series] ??= []).push(s.value);
    agg.set(s.phase!, byPhase);
  }
  const events: CycleEvent[] = [];
  const results: Result[] = [];
  const raw = new Map<string, string>();
  const phases: PhaseSummary[] = [];
  for (const m of models) {
    const a = agg.get(m.phase.name) ?? {};
    const avg = (s: string) => {
      const v = a[s] ?? [];
      return v.length ? v.reduce((x, y) => x + y, 0) / v.length : 0;
    };
    const mean: Tick = {
      rps: avg("load.rps"),
      p50: avg("load.p50_ms"),
      p95: avg("load.p95_ms"),
      p99: avg("load.p99_ms"),
      errors: avg("load.errors"),
      cpu: avg("sut.cpu_pct"),
      mem: avg("sut.mem_pct"),
    };
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
        cycle_id: k.cycleId,
        environment: env.id,
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
    const cpu = band(a["sut.cpu_pct"], m.phase.cpu_band);
    const memory = band(a["sut.mem_pct"], m.phase.memory_band);
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
    phases.push({
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
    });
  }
  const failed = phases.some((p) => p.gate.verdict === "aborted");
  const summary: CycleSummary = {
    cycle_id: k.cycleId,
    plan_hash: plan.hash,
    tier: plan.tier.name,
    suite_id: plan.suite.id,
    environment: { id: env.id, name: env.name, region: env.region, role: env.role },
    started_at: iso(k.startMs),
    ended_at: iso(models.at(-1)!.endMs),
    status: "completed",
    verdict: failed ? "failed" : "passed",
    ...(failed ? { reason: "a phase gate aborted the cycle" } : {}),
    calibration: {
      saturation_rps: Number(saturation.toFixed(1)),
      method: "step ramp until p99 > 4× idle or errors > 1%",
      steps: [0.25, 0.5, 0.75, 1, 1.1].map((f) => ({
        rps: Math.round(saturation * f),
        achieved_rps: Math.round(saturation * Math.min(f, 1)),
        p99_ms: Number((12 / (1 - 0.85 * Math.min(f, 0.97))).toFixed(2)),
        error_rate: f > 1 ? 0.012 : 0,
      })),
    },
    phases,
  };
  return {
    plan,
    env,
    summary,
    results,
    events: events.sort((x, y) => x.ts_ms - y.ts_ms),
    raw,
    samples: () => sampleStream(models, saturation, k),
    sampleCount: countSamples(models, k.sampleIntervalMs),
  };
}
