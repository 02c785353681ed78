import type { CycleSummary } from "../../shared/cycle.js";
import { startHttpLoad } from "../adapters/http-load-run.js";
import type { LoadEngine } from "../load/engine.js";

export type Calibration = NonNullable<CycleSummary["calibration"]>;

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
  readonly onStep?: (step: Calibration["steps"][number]) => void;
}

/**
 * Finds the SUT's saturation throughput for relative load mode: open-loop steps doubling the rate
 * from `startRps` until a step falls short of 90 % of its target, or its p99 or error rate breaks
 * its limit. The saturation is the most any step achieved: past the knee, added offered load only
 * queues, so the best achieved rate is what the SUT (with this generator) can serve.
 */
export async function calibrate(options: CalibrationOptions): Promise<Calibration> {
  const stepMs = options.stepMs ?? 1500;
  const maxSteps = options.maxSteps ?? 12;
  const p99Limit = options.p99LimitMs ?? 1000;
  const errorLimit = options.errorRateLimit ?? 0.01;
  const steps: Calibration["steps"] = [];
  let rate = options.startRps ?? 50;
  let broke = false;
  for (let i = 0; i < maxSteps && !options.signal?.aborted; i++) {
    const run = (options.load ?? startHttpLoad)({
      url: options.url,
      connections: options.connections,
      rps: rate,
      durationS: stepMs / 1000,
    });
    const onAbort = (): void => run.stop();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    const report = await run.done.finally(() => options.signal?.removeEventListener("abort", onAbort));
    const t = report.totals;
    const duration = t.duration_s > 0 ? t.duration_s : stepMs / 1000;
    const responses = t.requests;
    const failures = t.errors + t.non_2xx;
    const step = {
      rps: rate,
      achieved_rps: t.rps > 0 ? t.rps : responses / duration,
      p99_ms: report.latency_ms?.p99 ?? 0,
      error_rate: responses + t.errors > 0 ? failures / (responses + t.errors) : 1,
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
  return {
    saturation_rps: best,
    method: broke
      ? `open-loop ramp ×2 from ${options.startRps ?? 50} rps, ${stepMs} ms steps, ${options.connections} connections; broke at step ${steps.length}`
      : `open-loop ramp ×2 from ${options.startRps ?? 50} rps, ${stepMs} ms steps, ${options.connections} connections; no break within ${steps.length} steps (saturation is at least this)`,
    steps,
  };
}
