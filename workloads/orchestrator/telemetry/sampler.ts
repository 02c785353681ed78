import { createHash } from "node:crypto";
import type { Attributes, Context, Link, SpanKind } from "@opentelemetry/api";
import { SamplingDecision, type Sampler, type SamplingResult } from "@opentelemetry/sdk-trace-base";

/** Span attributes the sampler reads: the rate (0…1) and the key its decision is drawn from. */
export const SAMPLING_RATE = "tiers.sampling.rate";
export const SAMPLING_KEY = "tiers.sampling.key";

/** A fraction in [0, 1) drawn from sha256 of the key: the same key always gives the same fraction. */
export function keyFraction(key: string): number {
  return createHash("sha256").update(key).digest().readUInt32BE(0) / 2 ** 32;
}

/**
 * The catalog's per-phase trace sampling (phases.yaml `trace_sampling`), deterministic: a span
 * carrying `tiers.sampling.rate` is recorded when the fraction drawn from its `tiers.sampling.key`
 * (the plan's seed, the environment and the test id) is below the rate, so the same plan traces the
 * same tests every time and two runs can be compared span for span. A span without a rate (cycle
 * and phase spans: a handful per cycle, and the fault events hang on the phase's) is always
 * recorded. A random trace id would make the choice differ from run to run, hence a key of our own.
 */
export class PhaseRateSampler implements Sampler {
  shouldSample(
    _context: Context,
    _traceId: string,
    _spanName: string,
    _spanKind: SpanKind,
    attributes: Attributes,
    _links: Link[],
  ): SamplingResult {
    const rate = attributes[SAMPLING_RATE];
    const key = attributes[SAMPLING_KEY];
    if (typeof rate !== "number") return { decision: SamplingDecision.RECORD_AND_SAMPLED };
    const sampled = rate >= 1 || (rate > 0 && keyFraction(String(key ?? "")) < rate);
    return { decision: sampled ? SamplingDecision.RECORD_AND_SAMPLED : SamplingDecision.NOT_RECORD };
  }

  toString(): string {
    return "PhaseRateSampler";
  }
}
