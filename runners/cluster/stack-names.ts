import { DEFAULT_MAX_LIFETIME_HOURS } from "../../policies/rules/ephemeral-expiry.js";
import { EPHEMERAL_STACK, parseEphemeralStack, TAGS } from "../../tiers/infra/identity.js";
import type { TierName } from "../../tiers/schema/names.js";

/**
 * The longest an ephemeral stack may live: the `ephemeral-expiry` policy's default
 * `maxLifetimeHours` (imported, as runners/policy imports the pack), so a TTL the runner accepts
 * is one the policy pack accepts.
 */
export const MAX_TTL_HOURS = DEFAULT_MAX_LIFETIME_HOURS;
export const DEFAULT_TTL = "4h";
/** Where `tiers run` puts each run's directory (reports, inbox, keyring). */
export const DEFAULT_RUN_OUT = "out/runs";

/** Stack tags the runner sets (Pulumi stack tags: letters, digits and `-_.:`). */
export const STACK_TAGS = {
  ephemeral: "test-tiers:ephemeral",
  tier: TAGS.tier,
  owner: TAGS.owner,
  expiresAt: TAGS.expiresAt,
  cycle: "test-tiers:cycle",
} as const;

/** `<tier>-<yyyymmdd>-<hhmm>` (UTC): the name the policy pack and the reaper know as ephemeral. */
export function ephemeralStackName(tier: TierName, now: Date): string {
  const iso = now.toISOString();
  const name = `${tier}-${iso.slice(0, 10).replace(/-/g, "")}-${iso.slice(11, 13)}${iso.slice(14, 16)}`;
  if (!EPHEMERAL_STACK.test(name)) throw new Error(`internal: ${name} is not an ephemeral stack name`);
  return name;
}

const UNIT_MS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `4h`, `90m`, `1h30m`, `2d`, `45s` → milliseconds; undefined when it is not a duration. */
export function parseDuration(text: string): number | undefined {
  if (!/^(\d+[smhd])+$/.test(text)) return undefined;
  let ms = 0;
  for (const [, n, unit] of text.matchAll(/(\d+)([smhd])/g)) ms += Number(n) * UNIT_MS[unit!]!;
  return ms > 0 ? ms : undefined;
}

export const DURATION_EXPECTED = "a duration such as 4h, 90m, 1h30m or 2d";

/** An expiry as the stack config and tags carry it: `2026-12-02T13:30:00Z`, whole seconds. */
export function formatExpiry(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

/** Whether a stack name is one the runner creates (and the reaper may destroy). */
export function isEphemeralStackName(name: string): boolean {
  return parseEphemeralStack(name.split("/").pop() ?? name) !== undefined;
}
