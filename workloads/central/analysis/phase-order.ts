import { PHASE_NAMES } from "../../../tiers/schema/names.js";

/** A phase's place in the cycle for sorting; a name outside the catalog sorts last. */
export function phaseOrder(phase: string): number {
  const i = (PHASE_NAMES as readonly string[]).indexOf(phase);
  return i === -1 ? PHASE_NAMES.length : i;
}
