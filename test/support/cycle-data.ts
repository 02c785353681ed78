/**
 * Realistic, seeded cycle data for tests, benchmarks and the documentation screenshot: what an
 * environment's orchestrator would record for a real plan (`compilePlan` of a real tier), with a
 * simple load model — CPU follows the achieved rate, latency grows as utilisation approaches
 * saturation, errors appear at the extreme and under the chaos phase's faults. Knobs shift latency
 * or CPU so comparisons and change-point detection have something real to find.
 */
import { resolvePlanOptions } from "../../tiers/plan/options.js";
import { compilePlan } from "../../tiers/plan/compile.js";
import { seededRandom } from "../../tiers/plan/random.js";
import type { CyclePlan, PlanEnvironment } from "../../tiers/plan/schema.js";
import type { TierName } from "../../tiers/schema/names.js";
import type { CycleEvent, CycleSummary, PhaseSummary, Sample } from "../../workloads/shared/cycle.js";
import type { Result } from "../../workloads/shared/result.js";
import {
  countSamples,
  gaussian,
  hashText,
  phaseModels,
  sampleStream,
  type CycleKnobs,
  type Tick,
} from "./cycle-model.js";
import { phaseEvents, phaseResults, phaseSummary } from "./cycle-phase.js";

export { SAMPLE_SERIES, seededUuid, type CycleKnobs } from "./cycle-model.js";

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
    events.push(...phaseEvents(m));
    const outcome = phaseResults(m, mean, random, { cycleId: k.cycleId, environment: env.id });
    results.push(...outcome.results);
    for (const [name, content] of outcome.raw) raw.set(name, content);
    phases.push(phaseSummary(m, a, mean, outcome.contractFailed));
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
