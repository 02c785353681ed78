import type { PhaseSpec } from "../schema/catalog.js";
import type { PlanOptions } from "./options.js";
import { seededRandom } from "./random.js";
import type { LoadProfile } from "./schema.js";

/** The largest connection count of any fixed-load phase in the catalog (seed: extreme's 10,000). */
export function maxSeedConnections(phases: readonly PhaseSpec[]): number {
  return Math.max(
    1,
    ...phases.map((p) =>
      "connections" in p.load && typeof p.load.connections === "number" ? p.load.connections : 0,
    ),
  );
}

/**
 * In relative mode a phase's fraction is the midpoint of its CPU target band (baseline 10-20 % →
 * 0.15 … extreme 85-95 % → 0.90): the share of its CPU the SUT is to be kept busy. The calibration
 * turns it into a rate, `fraction × cores / CPU seconds a request`, at most the saturation
 * (`relativeRate` in workloads/orchestrator/controller/load-plan.ts).
 */
export function relativeFraction(phase: PhaseSpec): number {
  const band = phase.cpu_target_pct;
  if (!band || band.min === undefined) return 0;
  return (band.min + band.max) / 2 / 100;
}

/** Number of steps of a variable-load phase: one per ~5 s of its scaled time, 3 to 12. */
export function variableStepCount(durationMs: number): number {
  return Math.min(12, Math.max(3, Math.round(durationMs / 5000)));
}

export function loadProfile(
  phase: PhaseSpec,
  durationMs: number,
  options: PlanOptions,
  seedConnectionsMax: number,
): LoadProfile {
  const scaleConnections = (seedConnections: number): number =>
    options.load_mode === "absolute"
      ? Math.min(options.max_connections, Math.max(1, Math.round(seedConnections * options.load_scale)))
      : Math.max(1, Math.ceil((options.max_connections * seedConnections) / seedConnectionsMax));

  if ("variable" in phase.load) {
    const { min, max } = phase.load.rps_range;
    const random = seededRandom(options.seed ^ 0x9e3779b9);
    const n = variableStepCount(durationMs);
    const steps = Array.from({ length: n }, (_, i) => {
      const r = random();
      const at_ms = Math.floor((durationMs * i) / n);
      return options.load_mode === "absolute"
        ? { at_ms, rps: Math.round((min + r * (max - min)) * options.load_scale) }
        : { at_ms, fraction: round3(r * options.load_scale) };
    });
    return {
      kind: "variable",
      mode: options.load_mode,
      connections: scaleConnections(seedConnectionsMax),
      steps,
    };
  }
  if (phase.load.rps === 0) return { kind: "none" };
  return options.load_mode === "absolute"
    ? {
        kind: "constant",
        mode: "absolute",
        rps: round3(phase.load.rps * options.load_scale),
        connections: scaleConnections(phase.load.connections),
      }
    : {
        kind: "constant",
        mode: "relative",
        fraction: round3(relativeFraction(phase) * options.load_scale),
        connections: scaleConnections(phase.load.connections),
      };
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
