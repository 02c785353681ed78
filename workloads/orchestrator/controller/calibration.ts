import type { CyclePlan, PlanEnvironment } from "../../../tiers/plan/schema.js";
import type { CycleSummary, Sample } from "../../shared/cycle.js";
import { startHttpLoad } from "../adapters/http-load-run.js";
import type { LoadEngine } from "../load/engine.js";
import { setTimeout as sleep } from "node:timers/promises";
import { CPU_SERIES, RSS_SERIES } from "../sampler/process-sampler.js";
import { sutSampler } from "../sampler/sut-sampler.js";
import { relativeRate } from "./load-plan.js";
import type { EnvironmentRuntime } from "./runtime.js";

export type Calibration = NonNullable<CycleSummary["calibration"]>;
type CalibrationStep = Calibration["steps"][number];

/**
 * Reads the SUT's CPU: each call returns the samples of the time since the previous call (the
 * first only sets the baseline). The phases' samplers (`sutSampler`) are such probes.
 */
export interface CpuProbe {
  sampleNow(): readonly Sample[] | Promise<readonly Sample[]>;
}

export interface CalibrationOptions {
  /** The SUT endpoint the phases will load (`/work`, through the environment's proxy). */
  readonly url: string;
  readonly connections: number;
  /** How long each step holds its rate. @default 1500 */
  readonly stepMs?: number;
  /** First rate tried. @default 50 */
  readonly startRps?: number;
  /** Most steps before giving up on finding the break. @default 12 */
  readonly maxSteps?: number;
  /** p99 above this breaks the ramp (the catalog's HighLatency threshold). @default 1000 */
  readonly p99LimitMs?: number;
  /** Error rate above this breaks the ramp. @default 0.01 */
  readonly errorRateLimit?: number;
  readonly signal?: AbortSignal;
  /** Where the ramp's load is generated: the same engine as the phases' load. @default in process */
  readonly load?: LoadEngine;
  /**
   * The SUT's CPU during each step, and the cores it is entitled to (100 % = all of them busy):
   * from these the CPU seconds a request costs. Without it (or when it reads nothing) the phases'
   * rates are fractions of the saturation.
   */
  readonly cpu?: { readonly probe: CpuProbe; readonly cores: number };
  /**
   * The cost step, run after the ramp where a CPU probe is given: the rate held for this long at
   * `costFraction` of the saturation with `costConnections`, its CPU read from the end of its first
   * second to its end. Its CPU a request is the one the phases aim with. @default 2 × stepMs
   */
  readonly costStepMs?: number;
  /**
   * Of the saturation: high enough that the SUT serves several requests a wake-up as the middle
   * and heavy phases make it (what a request costs falls with the rate), below the knee. @default 0.7
   */
  readonly costFraction?: number;
  /**
   * After the ramp, wait up to this long for the SUT's memory to come back to what it was before
   * (the sample SUT's session cache lets the ramp's sessions go), so the first phase measures the
   * SUT and not the calibration's residue. Only where the probe reads the SUT's RSS. @default 10000
   */
  readonly settleMs?: number;
  /** The connections the phases load with (those of the heaviest relative phase). @default connections */
  readonly costConnections?: number;
  readonly onStep?: (step: CalibrationStep) => void;
}

async function cpuPct(probe: CpuProbe): Promise<number | undefined> {
  return (await read(probe)).find((s) => s.series === CPU_SERIES)?.value;
}

async function read(probe: CpuProbe): Promise<readonly Sample[]> {
  try {
    return await probe.sampleNow();
  } catch {
    return [];
  }
}

const rssOf = (samples: readonly Sample[]): number | undefined =>
  samples.find((s) => s.series === RSS_SERIES)?.value;

/**
 * Polls the probe until the SUT's RSS is within 25 % (at least 32 MiB) of `before`, at most
 * `withinMs`; the seconds it took, or null where the RSS is not read or did not come back.
 */
async function settle(
  probe: CpuProbe,
  before: number | undefined,
  withinMs: number,
  signal?: AbortSignal,
): Promise<number | null> {
  if (before === undefined || withinMs <= 0) return null;
  const limit = before + Math.max(32 * 1024 * 1024, before * 0.25);
  const startedMs = performance.now();
  for (;;) {
    const rss = rssOf(await read(probe));
    if (rss === undefined) return null;
    const waited = performance.now() - startedMs;
    if (rss <= limit) return round6(waited / 1000);
    if (waited >= withinMs || signal?.aborted) return null;
    await sleep(500, undefined, { signal }).catch(() => undefined);
  }
}

/**
 * Finds the SUT's saturation throughput for relative load mode: open-loop steps doubling the rate
 * from `startRps` until a step falls short of 90 % of its target, or its p99 or error rate breaks
 * its limit. The saturation is the most any step achieved: past the knee, added offered load only
 * queues, so the best achieved rate is what the SUT (with this generator) can serve.
 *
 * With a CPU probe it also measures what a request costs the SUT: the SUT's CPU seconds during
 * each step (its CPU % over the step's wall time × its cores) over the requests served
 * (`cpuPerRequest`). The phases then aim at their CPU band through that cost
 * (`relativeRate`) instead of at a fraction of the saturation, which is a fraction of CPU only
 * where saturation means the SUT's whole CPU share (on a shared machine it does not).
 */
export async function calibrate(options: CalibrationOptions): Promise<Calibration> {
  const stepMs = options.stepMs ?? 1500;
  const maxSteps = options.maxSteps ?? 12;
  const p99Limit = options.p99LimitMs ?? 1000;
  const errorLimit = options.errorRateLimit ?? 0.01;
  const steps: CalibrationStep[] = [];
  const cpu = options.cpu;
  let rate = options.startRps ?? 50;
  let broke = false;
  const rssBefore = cpu ? rssOf(await read(cpu.probe)) : undefined;
  for (let i = 0; i < maxSteps && !options.signal?.aborted; i++) {
    if (cpu) await cpuPct(cpu.probe);
    const startedMs = performance.now();
    const run = (options.load ?? startHttpLoad)({
      url: options.url,
      connections: options.connections,
      rps: rate,
      durationS: stepMs / 1000,
    });
    const onAbort = (): void => run.stop();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    const report = await run.done.finally(() => options.signal?.removeEventListener("abort", onAbort));
    const pct = cpu ? await cpuPct(cpu.probe) : undefined;
    const wallS = (performance.now() - startedMs) / 1000;
    const t = report.totals;
    const duration = t.duration_s > 0 ? t.duration_s : stepMs / 1000;
    const responses = t.requests;
    const failures = t.errors + t.non_2xx;
    // CPU seconds over the whole interval the probe measured (load start-up included: the SUT is
    // idle then, so its seconds are the step's requests' seconds).
    const cpuS = cpu && pct !== undefined ? (pct / 100) * cpu.cores * wallS : null;
    const step: CalibrationStep = {
      rps: rate,
      achieved_rps: t.rps > 0 ? t.rps : responses / duration,
      p99_ms: report.latency_ms?.p99 ?? 0,
      error_rate: responses + t.errors > 0 ? failures / (responses + t.errors) : 1,
      requests: responses,
      cpu_s: cpuS === null ? null : round6(cpuS),
    };
    steps.push(step);
    options.onStep?.(step);
    if (step.achieved_rps < 0.9 * rate || step.p99_ms > p99Limit || step.error_rate > errorLimit) {
      broke = true;
      break;
    }
    rate *= 2;
  }
  const best = Math.max(...steps.map((s) => s.achieved_rps), 0);
  if (best <= 0) throw new Error("calibration: the SUT served no request at any rate");
  const costStep =
    cpu && !options.signal?.aborted
      ? await steadyCost({
          url: options.url,
          connections: options.costConnections ?? options.connections,
          rps: Math.max(1, Math.round(best * (options.costFraction ?? 0.7))),
          durationMs: options.costStepMs ?? 2 * stepMs,
          cpu,
          load: options.load ?? startHttpLoad,
          ...(options.signal ? { signal: options.signal } : {}),
        })
      : null;
  const settled =
    cpu && !options.signal?.aborted
      ? await settle(cpu.probe, rssBefore, options.settleMs ?? 10_000, options.signal)
      : null;
  const rampCost = cpuPerRequest(steps, broke);
  const cost = costStep?.cpu_s_per_request ?? rampCost;
  const ramp = `open-loop ramp ×2 from ${options.startRps ?? 50} rps, ${stepMs} ms steps, ${options.connections} connections`;
  const end = broke
    ? `broke at step ${steps.length}`
    : `no break within ${steps.length} steps (saturation is at least this)`;
  const where = costStep
    ? ` (held ${costStep.rps} rps, ${costStep.connections} connections, after its first second)`
    : rampCost !== null
      ? " (the ramp's steps that held their rate)"
      : "";
  const rates =
    cost === null
      ? cpu
        ? "the SUT's CPU was not measured: rates are fractions of the saturation"
        : "rates are fractions of the saturation"
      : `SUT CPU ${fmtMs(cost)} ms a request${where}: rates aim at the CPU bands, at most the saturation`;
  return {
    saturation_rps: best,
    method: `${ramp}; ${end}; ${rates}${settled !== null ? `; the SUT's memory back in ${settled.toFixed(1)} s` : ""}`,
    steps,
    cores: cpu?.cores ?? null,
    cpu_s_per_request: cost,
    rate_basis: cost === null ? "saturation" : "cpu",
    ...(costStep ? { cost_step: costStep } : {}),
  };
}

type CostStep = NonNullable<Calibration["cost_step"]>;

/**
 * The SUT's CPU a request at a rate held below the knee, in steady state: the probe's CPU from
 * the end of the run's first second to its end over the responses of those seconds. The ramp's
 * steps are short and low, so what does not grow with the rate weighs on them (each step's new
 * connections, the SUT's first second at a new rate); the phases hold their rates for many
 * seconds, where it does not. Null when the run reported no second, or no CPU or request after it.
 */
async function steadyCost(o: {
  url: string;
  connections: number;
  rps: number;
  durationMs: number;
  cpu: NonNullable<CalibrationOptions["cpu"]>;
  load: LoadEngine;
  signal?: AbortSignal;
}): Promise<CostStep | null> {
  const run = o.load({ url: o.url, connections: o.connections, rps: o.rps, durationS: o.durationMs / 1000 });
  // The first second ends: the probe's baseline, and the responses it held are left out.
  let first: Promise<{ atMs: number; responses: number } | undefined> | undefined;
  run.onSecond((s) => {
    if (first) return;
    const atMs = performance.now();
    first = cpuPct(o.cpu.probe).then(() => ({ atMs, responses: s.responses }));
  });
  const onAbort = (): void => run.stop();
  o.signal?.addEventListener("abort", onAbort, { once: true });
  const report = await run.done.finally(() => o.signal?.removeEventListener("abort", onAbort));
  const start = await first;
  if (!start || o.signal?.aborted) return null;
  const pct = await cpuPct(o.cpu.probe);
  const wallS = (performance.now() - start.atMs) / 1000;
  const requests = report.totals.requests - start.responses;
  if (pct === undefined || pct <= 0 || requests <= 0) return null;
  const cpuS = (pct / 100) * o.cpu.cores * wallS;
  return {
    rps: o.rps,
    connections: o.connections,
    duration_s: round6(wallS),
    requests,
    cpu_s: round6(cpuS),
    cpu_s_per_request: round9(cpuS / requests),
  };
}

/**
 * The SUT's CPU seconds a request: the CPU seconds of the steps that held their rate over the
 * requests they served, pooled (the highest steps weigh most, where fixed costs weigh least). The
 * step that broke the ramp is left out while another was measured: past the knee the generator
 * stops with requests still queued in the SUT, whose CPU it spent on responses never counted.
 * Null when no step's CPU (or no request) was measured.
 */
export function cpuPerRequest(steps: readonly CalibrationStep[], broke: boolean): number | null {
  const measured = (list: readonly CalibrationStep[]) =>
    list.filter(
      (s): s is CalibrationStep & { cpu_s: number; requests: number } =>
        typeof s.cpu_s === "number" && s.cpu_s > 0 && typeof s.requests === "number" && s.requests > 0,
    );
  const held = measured(broke ? steps.slice(0, -1) : steps);
  const pool = held.length > 0 ? held : measured(steps);
  const requests = pool.reduce((a, s) => a + s.requests, 0);
  if (requests === 0) return null;
  return round9(pool.reduce((a, s) => a + s.cpu_s, 0) / requests);
}

/**
 * The calibration an environment's cycle runs with, the same on every path (`run-cycle` and the
 * workflow's `start-cycle` step): the ramp through the environment's load engine, the SUT's CPU
 * read by the phases' own sampler, and the rate each constant-load phase will aim at recorded
 * with it (`targets`), so the cycle's record says what was chosen and why.
 */
export async function calibrateEnvironment(
  runtime: EnvironmentRuntime,
  plan: CyclePlan,
  environment: PlanEnvironment,
  overrides: Partial<Omit<CalibrationOptions, "url" | "connections" | "load" | "cpu">> = {},
): Promise<Calibration> {
  const probe = sutSampler(
    runtime,
    () => null,
    () => undefined,
  );
  const measured = await calibrate({
    url: new URL("/work", runtime.targetUrl).toString(),
    connections: plan.options.max_connections,
    ...(runtime.load ? { load: runtime.load } : {}),
    cpu: { probe, cores: runtime.cores },
    costConnections: heaviestConnections(environment) ?? plan.options.max_connections,
    ...overrides,
  });
  return { ...measured, targets: rateTargets(environment, measured) };
}

/** The connections of the constant relative phase with the largest fraction (its rate matters most). */
export function heaviestConnections(environment: PlanEnvironment): number | undefined {
  let best: { fraction: number; connections: number } | undefined;
  for (const p of environment.phases) {
    const load = p.load;
    if (load.kind !== "constant" || load.mode !== "relative") continue;
    const fraction = load.fraction ?? 0;
    if (!best || fraction > best.fraction) best = { fraction, connections: load.connections };
  }
  return best?.connections;
}

/** The rate each constant relative-load phase aims at, with the CPU it means and whether it was capped. */
export function rateTargets(environment: PlanEnvironment, calibration: Calibration): Calibration["targets"] {
  return environment.phases.flatMap((p) => {
    const load = p.load;
    if (load.kind !== "constant" || load.mode !== "relative") return [];
    const fraction = load.fraction ?? 0;
    const r = relativeRate(fraction, calibration);
    return [{ phase: p.name, fraction, rps: Math.round(r.rps), capped: r.capped }];
  });
}

function fmtMs(seconds: number): string {
  return (seconds * 1000).toPrecision(3);
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

function round9(x: number): number {
  return Math.round(x * 1e9) / 1e9;
}
