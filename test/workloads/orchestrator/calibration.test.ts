import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PlanPhase } from "../../../tiers/plan/schema.js";
import {
  calibrate,
  cpuPerRequest,
  heaviestConnections,
  rateTargets,
  type Calibration,
} from "../../../workloads/orchestrator/controller/calibration.js";
import { loadSegments, relativeRate } from "../../../workloads/orchestrator/controller/load-plan.js";
import type {
  HttpLoadOptions,
  LoadReport,
  LoadSecond,
} from "../../../workloads/orchestrator/adapters/http-load-run.js";
import type { LoadEngine } from "../../../workloads/orchestrator/load/engine.js";
import {
  CPU_SERIES,
  ProcessSampler,
  RSS_SERIES,
} from "../../../workloads/orchestrator/sampler/process-sampler.js";
import { CycleSummary } from "../../../workloads/shared/cycle.js";
import type { SutSupervisor } from "../../../workloads/sut/supervisor.js";
import { testPlan } from "../../helpers/orchestrator.js";
import { startSut } from "../support/sut.js";

const step = (achieved: number, requests?: number, cpu_s?: number | null): Calibration["steps"][number] => ({
  rps: achieved,
  achieved_rps: achieved,
  p99_ms: 1,
  error_rate: 0,
  ...(requests === undefined ? {} : { requests }),
  ...(cpu_s === undefined ? {} : { cpu_s }),
});

describe("relative rates: a fraction of the SUT's CPU share, at most the saturation", () => {
  const measured = { saturation_rps: 400, cpu_s_per_request: 0.002, cores: 1 };

  it("aims at the fraction of the cores over the CPU a request costs", () => {
    // 0.15 of one core at 2 ms a request: 75 requests a second.
    expect(relativeRate(0.15, measured)).toStrictEqual({ rps: 75, capped: false });
    expect(relativeRate(0.35, { ...measured, cores: 2 }).rps).toBeCloseTo(350, 9);
  });

  it("caps at the saturation where the CPU band lies beyond what the SUT can be made to use", () => {
    // 0.9 of one core would be 450 rps; the SUT served at most 400.
    expect(relativeRate(0.9, measured)).toStrictEqual({ rps: 400, capped: true });
  });

  it("is the fraction of the saturation when the calibration has no CPU figure (or an old record)", () => {
    expect(relativeRate(0.5, { saturation_rps: 400 })).toStrictEqual({ rps: 200, capped: false });
    expect(relativeRate(0.5, { ...measured, cpu_s_per_request: null })).toStrictEqual({
      rps: 200,
      capped: false,
    });
    expect(relativeRate(0.5, { ...measured, cores: null }).rps).toBe(200);
  });

  it("is what the phases' load segments and the recorded targets use", () => {
    const plan = testPlan({ tier: "stress", time_scale: "0.012", load_mode: "relative" });
    const environment = plan.environments[0]!;
    const calibration: Calibration = {
      saturation_rps: 300,
      method: "test",
      steps: [],
      cores: 1,
      cpu_s_per_request: 0.0025,
      rate_basis: "cpu",
    };
    const targets = rateTargets(environment, calibration)!;
    const byPhase = new Map(targets.map((t) => [t.phase, t]));
    // baseline 0.15 → 60, light 0.35 → 140, medium 0.55 → 220, heavy 0.75 → 300 (= saturation, not capped).
    expect(targets.map((t) => [t.phase, t.fraction, t.rps, t.capped])).toStrictEqual([
      ["baseline", 0.15, 60, false],
      ["light", 0.35, 140, false],
      ["medium", 0.55, 220, false],
      ["heavy", 0.75, 300, false],
    ]);
    for (const phase of environment.phases.filter((p: PlanPhase) => p.load.kind === "constant")) {
      expect(loadSegments(phase, calibration)[0]!.rps).toBe(byPhase.get(phase.name)!.rps);
    }
    // Dearer requests: heavy would need 375 rps, above the 300 served: capped.
    const dear = rateTargets(environment, { ...calibration, cpu_s_per_request: 0.002 })!;
    expect(dear.at(-1)).toStrictEqual({ phase: "heavy", fraction: 0.75, rps: 300, capped: true });
    expect(() => loadSegments(environment.phases[1]!, null)).toThrow(/needs a calibration/);
  });

  it("a calibration with the new figures, and one recorded before them, are both valid cycle records", () => {
    const record = (calibration: unknown) => CycleSummary.shape.calibration.safeParse(calibration).success;
    expect(record({ saturation_rps: 10, method: "m", steps: [step(10)] })).toBe(true);
    expect(
      record({
        saturation_rps: 10,
        method: "m",
        steps: [step(10, 15, 0.03)],
        cores: 1,
        cpu_s_per_request: 0.002,
        rate_basis: "cpu",
        targets: [{ phase: "baseline", fraction: 0.15, rps: 75, capped: false }],
      }),
    ).toBe(true);
    expect(record({ saturation_rps: 10, method: "m", steps: [], rate_basis: "guess" })).toBe(false);
  });
});

describe("the CPU a request costs, from the calibration's steps", () => {
  it("is the CPU seconds of the steps that held their rate over their requests, the breaking step left out", () => {
    // The step that broke spent CPU on requests it never saw answered (0.9 s for 270).
    const steps = [step(50, 75, 0.15), step(100, 150, 0.3), step(180, 270, 0.9)];
    expect(cpuPerRequest(steps, true)).toBeCloseTo(0.45 / 225, 9);
    // No break: every step held its rate and counts.
    expect(cpuPerRequest(steps, false)).toBeCloseTo(1.35 / 495, 9);
  });

  it("uses the breaking step when it is the only one measured", () => {
    expect(cpuPerRequest([step(50, 75, null), step(180, 270, 0.54)], true)).toBeCloseTo(0.002, 12);
  });

  it("is null when no step's CPU was read", () => {
    expect(cpuPerRequest([step(50), step(100, 150, null)], true)).toBeNull();
  });
});

/**
 * A scripted SUT and load engine: each run lasts two "seconds" of 25 ms; a request costs the SUT
 * 2 ms of CPU, and the first second of every run 200 ms more (new connections, a new rate: what the
 * ramp's short steps pay and the phases' long stretches do not). It serves at most 300 rps. The
 * probe reads the CPU spent over the wall time between its calls, as the process sampler does, and
 * an RSS that is high while load runs and comes back `settleReads` reads after the last run.
 */
function scriptedSut(settleReads = 2) {
  let cpuS = 0;
  let lastCpu = 0;
  let lastMs = performance.now();
  let running = false;
  let readsSinceLoad = 0;
  let reads = 0;
  const runs: HttpLoadOptions[] = [];
  const MiB = 1024 * 1024;
  const probe = {
    sampleNow: () => {
      const now = performance.now();
      const pct = ((cpuS - lastCpu) / ((now - lastMs) / 1000)) * 100;
      [lastCpu, lastMs] = [cpuS, now];
      readsSinceLoad += running ? 0 : 1;
      const rss = runs.length > 0 && (running || readsSinceLoad <= settleReads) ? 400 * MiB : 100 * MiB;
      reads += 1;
      return [
        { ts_ms: Date.now(), phase: null, series: CPU_SERIES, value: pct },
        { ts_ms: Date.now(), phase: null, series: RSS_SERIES, value: rss },
      ];
    },
  };
  const load: LoadEngine = (options) => {
    runs.push(options);
    running = true;
    readsSinceLoad = 0;
    const listeners: ((s: LoadSecond, h: never) => void)[] = [];
    const perSecond = Math.min(options.rps ?? 0, 300);
    const second = (n: number): LoadSecond => ({
      ts_ms: Date.now(),
      second: n,
      interval_ms: 1000,
      responses: perSecond,
      rps: perSecond,
      errors: 0,
      timeouts: 0,
      non_2xx: 0,
      p50_ms: 1,
      p95_ms: 1,
      p99_ms: 1,
      max_ms: 1,
    });
    const done = (async () => {
      for (const n of [1, 2]) {
        await new Promise((r) => setTimeout(r, 25));
        cpuS += perSecond * 0.002 + (n === 1 ? 0.2 : 0);
        for (const l of listeners) l(second(n), undefined as never);
      }
      running = false;
      return {
        totals: {
          requests: 2 * perSecond,
          errors: 0,
          timeouts: 0,
          non_2xx: 0,
          bytes: 0,
          duration_s: 2,
          rps: perSecond,
        },
        latency_ms: { p50: 1, p95: 1, p99: 1 },
      } as unknown as LoadReport;
    })();
    return { onSecond: (l) => void listeners.push(l), stop: () => undefined, done };
  };
  return { probe, load, runs, reads: () => reads };
}

describe("the cost step: the CPU a request costs in steady state, as the phases run", () => {
  it("is read after the first second of a rate held at 0.7 of the saturation, with the phases' connections", async () => {
    const sut = scriptedSut();
    const c = await calibrate({
      url: "http://sut/work",
      connections: 64,
      costConnections: 8,
      startRps: 50,
      load: sut.load,
      cpu: { probe: sut.probe, cores: 1 },
    });
    // Ramp 50, 100, 200, 400 (broke: 300 served), then the cost step.
    expect(sut.runs.map((r) => [r.rps, r.connections])).toStrictEqual([
      [50, 64],
      [100, 64],
      [200, 64],
      [400, 64],
      [210, 8],
    ]);
    expect(c.saturation_rps).toBe(300);
    // The ramp's held steps pay the first second's 200 ms on few requests: well above 2 ms.
    expect(cpuPerRequest(c.steps, true)!).toBeGreaterThan(0.0025);
    // The cost step's seconds after its first: 2 ms a request (wall-clock jitter aside).
    expect(c.cost_step).toMatchObject({ rps: 210, connections: 8, requests: 210 });
    expect(c.cpu_s_per_request!).toBeCloseTo(0.002, 3);
    expect(c.cpu_s_per_request).toBe(c.cost_step!.cpu_s_per_request);
    expect(c.method).toMatch(/ms a request \(held 210 rps, 8 connections, after its first second\)/);
    expect(CycleSummary.shape.calibration.safeParse(c).success).toBe(true);
  });

  it("waits for the SUT's memory to come back before the phases, for at most settleMs", async () => {
    const settles = await calibrate({
      url: "http://sut/work",
      connections: 4,
      maxSteps: 1,
      ...(({ probe, load }) => ({ load, cpu: { probe, cores: 1 } }))(scriptedSut(2)),
    });
    expect(settles.method).toMatch(/the SUT's memory back in \d+\.\d s/);
    const never = scriptedSut(Number.POSITIVE_INFINITY);
    const c = await calibrate({
      url: "http://sut/work",
      connections: 4,
      maxSteps: 1,
      settleMs: 600,
      load: never.load,
      cpu: { probe: never.probe, cores: 1 },
    });
    expect(c.method).not.toMatch(/memory back/);
    expect(c.cpu_s_per_request).not.toBeNull();
    // It gave up after settleMs: polls 500 ms apart, so at most three reads of the RSS after the
    // ramp's (one before it, two around its step, two around the cost step).
    expect(never.reads()).toBeLessThanOrEqual(5 + 3);
  });

  it("takes the connections of the plan's heaviest relative phase", () => {
    const plan = testPlan({ tier: "stress", time_scale: "0.012", load_mode: "relative" });
    const environment = plan.environments[0]!;
    const heavy = environment.phases.find((p) => p.name === "heavy")!;
    expect(heavy.load.kind).toBe("constant");
    expect(heaviestConnections(environment)).toBe((heavy.load as { connections: number }).connections);
    expect(heaviestConnections({ ...environment, phases: [] })).toBeUndefined();
  });
});

describe("calibrating a real SUT with its CPU read by the process sampler", () => {
  let sut: SutSupervisor;
  beforeAll(async () => {
    // Each /work request burns 5 ms of the SUT's CPU time.
    sut = await startSut({ work: { cpuMs: 5 } });
  });
  afterAll(async () => {
    await sut?.stop();
  });

  it("measures at least the CPU each request burns, and rates from it", async () => {
    const probe = new ProcessSampler({ roots: () => [sut.pid], cores: 1, onSample: () => undefined });
    const c = await calibrate({
      url: new URL("/work", sut.url).toString(),
      connections: 4,
      startRps: 20,
      stepMs: 1000,
      maxSteps: 3,
      cpu: { probe, cores: 1 },
    });
    expect(c.rate_basis).toBe("cpu");
    expect(c.cores).toBe(1);
    for (const s of c.steps) {
      expect(s.requests).toBeGreaterThan(0);
      expect(s.cpu_s).toBeGreaterThan(0);
    }
    // burnCpu spends 5 ms of CPU time per request; the rest is the request's own handling.
    expect(c.cpu_s_per_request).toBeGreaterThanOrEqual(0.005 * 0.95);
    expect(c.cpu_s_per_request).toBeLessThan(0.05);
    // From the cost step after the ramp, with the ramp's connections (no plan to take them from).
    expect(c.method).toMatch(
      /ms a request \(held \d+ rps, 4 connections, after its first second\): rates aim at the CPU bands/,
    );
    expect(c.cost_step?.cpu_s_per_request).toBe(c.cpu_s_per_request);
    const r = relativeRate(0.15, c);
    expect(r.rps).toBeCloseTo(Math.min(c.saturation_rps, 0.15 / c.cpu_s_per_request!), 9);
  }, 60_000);

  it("without a CPU probe, rates are fractions of the saturation", async () => {
    const c = await calibrate({
      url: new URL("/work", sut.url).toString(),
      connections: 2,
      startRps: 20,
      stepMs: 500,
      maxSteps: 1,
    });
    expect(c.rate_basis).toBe("saturation");
    expect(c.cpu_s_per_request).toBeNull();
    expect(c.steps[0]!.cpu_s).toBeNull();
    expect(relativeRate(0.5, c).rps).toBe(0.5 * c.saturation_rps);
  }, 60_000);
});
