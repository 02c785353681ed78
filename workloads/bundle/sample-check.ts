import { PHASE_NAMES } from "../../tiers/schema/names.js";
import type { Sample } from "../shared/cycle.js";

const PHASES = new Set<unknown>(PHASE_NAMES);

/**
 * The shared `Sample` schema's rules, checked in place without copying the object: a bundle has
 * millions of samples, and zod's parse allocates a second object per line (measured: 40 % of the
 * import time went to the garbage collector). Anything this rejects is parsed again by zod, so
 * messages stay zod's; a property test keeps the two in agreement (test/workloads/bundle).
 */
export function isPlainSample(value: unknown): value is Sample {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  let keys = 0;
  for (const key in v) {
    if (!Object.prototype.hasOwnProperty.call(v, key)) continue;
    if (key !== "ts_ms" && key !== "phase" && key !== "series" && key !== "value") return false;
    keys++;
  }
  return (
    keys === 4 &&
    typeof v.ts_ms === "number" &&
    Number.isSafeInteger(v.ts_ms) &&
    v.ts_ms >= 0 &&
    (v.phase === null || PHASES.has(v.phase)) &&
    typeof v.series === "string" &&
    v.series.length > 0 &&
    typeof v.value === "number" &&
    Number.isFinite(v.value)
  );
}
