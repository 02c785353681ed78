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

/**
 * The phase's load as constant stretches: one for a constant profile, one per step of a variable
 * one, none for idle. Relative rates become requests per second from the measured saturation.
 */
export function loadSegments(phase: PlanPhase, saturationRps: number | null): LoadSegment[] {
  const load: LoadProfile = phase.load;
  const rate = (rps: number | undefined, fraction: number | undefined): number => {
    if (load.kind === "none") return 0;
    if (load.mode === "absolute") return Math.round(rps ?? 0);
    if (saturationRps === null) throw new Error(`phase ${phase.name} needs a calibration (relative load)`);
    return Math.round((fraction ?? 0) * saturationRps);
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
