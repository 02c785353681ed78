import type { LoadProfile, PlanPhase, PlanTest } from "../../../tiers/plan/schema.js";
import type { NumericRule } from "../../../tiers/contracts/compile.js";

/** One stretch of constant load within a phase. */
export interface LoadSegment {
  readonly at_ms: number;
  readonly duration_ms: number;
  /** Requests per second to offer; 0 = no load for this stretch. */
  readonly rps: number;
  readonly connections: number;
}

/** What a relative rate is computed from: a calibration's figures. */
export interface RateBasis {
  readonly saturation_rps: number;
  /** The SUT's CPU seconds a request; absent or null: the rate is a fraction of the saturation. */
  readonly cpu_s_per_request?: number | null | undefined;
  /** Cores the SUT is entitled to (100 % CPU). */
  readonly cores?: number | null | undefined;
}

/**
 * The rate a relative fraction means. Where the calibration measured what a request costs the
 * SUT, the fraction is of the SUT's CPU share: `fraction × cores / cpu_s_per_request` requests a
 * second keep that share busy, capped at the measured saturation (more would only queue), so a
 * phase aims at its CPU band's midpoint whatever the rest of the machine takes. Without that
 * measurement it is the fraction of the saturation (a fraction of CPU only if saturation means
 * the SUT's whole share).
 */
export function relativeRate(fraction: number, basis: RateBasis): { rps: number; capped: boolean } {
  const cost = basis.cpu_s_per_request;
  const cores = basis.cores;
  if (typeof cost !== "number" || cost <= 0 || typeof cores !== "number" || cores <= 0)
    return { rps: fraction * basis.saturation_rps, capped: false };
  const aimed = (fraction * cores) / cost;
  return aimed > basis.saturation_rps
    ? { rps: basis.saturation_rps, capped: true }
    : { rps: aimed, capped: false };
}

/**
 * The phase's load as constant stretches: one for a constant profile, one per step of a variable
 * one, none for idle. Relative rates become requests per second from the calibration
 * (`relativeRate`).
 */
export function loadSegments(phase: PlanPhase, calibration: RateBasis | null): LoadSegment[] {
  const load: LoadProfile = phase.load;
  const rate = (rps: number | undefined, fraction: number | undefined): number => {
    if (load.kind === "none") return 0;
    if (load.mode === "absolute") return Math.round(rps ?? 0);
    if (calibration === null) throw new Error(`phase ${phase.name} needs a calibration (relative load)`);
    return Math.round(relativeRate(fraction ?? 0, calibration).rps);
  };
  switch (load.kind) {
    case "none":
      return [];
    case "constant":
      return [
        {
          at_ms: 0,
          duration_ms: phase.duration_ms,
          rps: rate(load.rps, load.fraction),
          connections: load.connections,
        },
      ];
    case "variable":
      return load.steps.map((s, i) => {
        const end = load.steps[i + 1]?.at_ms ?? phase.duration_ms;
        return {
          at_ms: s.at_ms,
          duration_ms: end - s.at_ms,
          rps: rate(s.rps, s.fraction),
          connections: load.connections,
        };
      });
  }
}

/** The id of the Result a segment's load produces: `<phase>/load`, or `<phase>/load@<n>` per step. */
export function loadTestId(phase: PlanPhase, index: number, count: number): string {
  return count === 1 ? `${phase.name}/load` : `${phase.name}/load@${index + 1}`;
}

/** A segment as a plan test of the http-load tool, run by the same adapter as any test. */
export function loadTest(
  phase: PlanPhase,
  segment: LoadSegment,
  index: number,
  count: number,
  rules: Readonly<Record<string, NumericRule>>,
): PlanTest {
  const duration = segment.duration_ms / 1000;
  return {
    id: loadTestId(phase, index, count),
    name: count === 1 ? "load" : `load@${index + 1}`,
    tool: "http-load",
    contract: "HttpLoadContract",
    parameters: {
      path: "/work",
      method: "GET",
      rps: segment.rps,
      connections: segment.connections,
      duration,
      timeout: 10,
    },
    rules: { ...rules },
    timeout_ms: Math.round(segment.duration_ms + 30_000),
    duration_ms: segment.duration_ms,
  };
}
