/** The fixed vocabulary of the model. Adding a tier or phase is a compile error until every map has it. */

export const TIER_NAMES = ["base", "stress", "chaos", "ultimate"] as const;
export type TierName = (typeof TIER_NAMES)[number];

/** The seven phases, in the order a cycle runs them. */
export const PHASE_NAMES = ["idle", "baseline", "light", "medium", "heavy", "extreme", "chaos"] as const;
export type PhaseName = (typeof PHASE_NAMES)[number];

export const REGION_ROLES = ["primary", "secondary", "tertiary"] as const;
export type RegionRole = (typeof REGION_ROLES)[number];

export const CHAOS_SCENARIOS = [
  "pod_kill",
  "network_partition",
  "resource_starvation",
  "clock_skew",
  "disk_failure",
] as const;
export type ChaosScenario = (typeof CHAOS_SCENARIOS)[number];

export const TOOL_NAMES = ["http-load", "iperf3", "fio", "stress-ng", "elbencho", "command"] as const;
export type ToolName = (typeof TOOL_NAMES)[number];

/** Environment ids: lower case, digits, `-` and `_`; they become namespace and directory names. */
export const ENVIRONMENT_ID = /^[a-z][a-z0-9_-]{0,39}$/;
/**
 * Cycle ids: a caller may choose one (the API's trigger, the step commands); they become file
 * names (`<env>-<cycle>.tar.gz`) and database keys.
 */
export const CYCLE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/;
export const CYCLE_ID_EXPECTED = "letters, digits, . _ - (up to 80), starting with a letter or digit";
/** Test and suite ids. */
export const IDENTIFIER = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;

export function phaseIndex(phase: PhaseName): number {
  return PHASE_NAMES.indexOf(phase);
}

/** The Kubernetes namespace / directory form of an environment id (`prod_env` → `prod-env`). */
export function environmentSlug(id: string): string {
  return id.replace(/_/g, "-");
}
