import type { ChaosScenario } from "../schema/names.js";
import { seededRandom, seededShuffle } from "./random.js";
import type { PlanFault } from "./schema.js";

/**
 * The chaos phase's fault schedule: the scenarios in a seeded order, one per equal slot of the
 * phase; each fault starts 10 % into its slot and lasts half of it, so every slot ends with time
 * for the system to recover before the next fault.
 */
export function scheduleFaults(
  scenarios: readonly ChaosScenario[],
  durationMs: number,
  seed: number,
): PlanFault[] {
  if (scenarios.length === 0) return [];
  const order = seededShuffle(scenarios, seededRandom(seed ^ 0x5bd1e995));
  const slot = durationMs / order.length;
  return order.map((scenario, i) => ({
    scenario,
    at_ms: Math.floor(i * slot + slot * 0.1),
    duration_ms: Math.max(1, Math.floor(slot * 0.5)),
  }));
}
