import type { GateRule, LoadProfile, PlanPhase } from "../../tiers/plan/schema.js";
import { formatSi } from "../../tiers/units.js";

/**
 * One-line texts of a plan's parts, shared by `tiers plan` and the runner's start-up lines. A
 * relative load reads "35% CPU": the rate that keeps that share of the SUT's CPU busy, chosen at
 * calibration from the CPU a request costs and at most the saturation (`relativeRate`).
 */

export function describeLoad(load: LoadProfile): string {
  switch (load.kind) {
    case "none":
      return "none";
    case "constant":
      return load.mode === "absolute"
        ? `${formatSi(load.rps ?? 0)} rps`
        : `${Math.round((load.fraction ?? 0) * 100)}% CPU`;
    case "variable": {
      const values = load.steps.map((s) => (load.mode === "absolute" ? (s.rps ?? 0) : (s.fraction ?? 0)));
      const lo = Math.min(...values);
      const hi = Math.max(...values);
      return load.mode === "absolute"
        ? `${formatSi(lo)}-${formatSi(hi)} rps (${load.steps.length} steps)`
        : `${Math.round(lo * 100)}-${Math.round(hi * 100)}% CPU (${load.steps.length} steps)`;
    }
  }
}

export function describeBand(b: PlanPhase["cpu_band"]): string {
  if (!b) return "-";
  return b.min === 0 ? `<${b.max}%` : `${b.min}-${b.max}%`;
}

export function describeGate(rules: readonly GateRule[]): string {
  const one = (r: GateRule): string => (r.check === "metric" ? `${r.metric}${r.op}${r.threshold}` : r.check);
  const abort = rules.filter((r) => r.action === "abort").map(one);
  const warn = rules.filter((r) => r.action === "warn").map(one);
  return [abort.length ? `abort: ${abort.join(", ")}` : "", warn.length ? `warn: ${warn.join(", ")}` : ""]
    .filter(Boolean)
    .join("; ");
}
