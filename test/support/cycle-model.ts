/** The load model of a generated cycle: phases on a timeline, per-tick figures, the sample stream. */
import { seededRandom } from "../../tiers/plan/random.js";
import type { PlanEnvironment, PlanPhase } from "../../tiers/plan/schema.js";
import type { TierName } from "../../tiers/schema/names.js";
import type { Sample } from "../../workloads/shared/cycle.js";

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

/** A v4-shaped uuid from a seeded generator. */
export function seededUuid(random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16));
  hex[12] = "4";
  hex[16] = ((Math.floor(random() * 4) & 0x3) | 0x8).toString(16);
  const h = hex.join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function hashText(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

export function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

export interface PhaseModel {
  readonly phase: PlanPhase;
  readonly startMs: number;
  readonly endMs: number;
  /** Target rate at an offset into the phase. */
  readonly targetAt: (offsetMs: number) => number;
  readonly faults: { from: number; to: number; scenario: string }[];
}

export function phaseModels(env: PlanEnvironment, startMs: number, saturation: number): PhaseModel[] {
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

export interface Tick {
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  errors: number;
  cpu: number;
  mem: number;
}

export function tickAt(
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

export function* sampleStream(
  models: PhaseModel[],
  saturation: number,
  k: Required<CycleKnobs>,
): Generator<Sample> {
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
export function meanTarget(m: PhaseModel): number {
  const step = 100;
  let sum = 0;
  let n = 0;
  for (let t = 0; t < m.endMs - m.startMs; t += step, n++) sum += m.targetAt(t);
  return n ? sum / n : 0;
}

export function countSamples(models: PhaseModel[], intervalMs: number): number {
  let n = 0;
  for (const m of models) {
    const ticks = Math.ceil((m.endMs - m.startMs) / intervalMs);
    n += ticks * (m.phase.load.kind === "none" ? SAMPLE_SERIES.length - 3 : SAMPLE_SERIES.length);
  }
  return n;
}
