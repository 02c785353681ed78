/**
 * How test-tiers marks what it creates: Kubernetes label and annotation keys, AWS tag keys, the
 * environment value of region-wide resources, ephemeral stack names, owner and expiry values. One
 * place, read by the components that write the marks and by the policy pack that checks them.
 */
import { ENVIRONMENT_ID, TIER_NAMES, type TierName } from "../schema/names.js";

export const LABEL_PREFIX = "test-tiers";

/** Kubernetes labels on every object of an environment (values are label-safe: ids, tier and region codes). */
export const LABELS = {
  stack: `${LABEL_PREFIX}/stack`,
  tier: `${LABEL_PREFIX}/tier`,
  region: `${LABEL_PREFIX}/region`,
  /** The label that makes a namespace an environment namespace (IsolatedEnvironment sets it). */
  environment: `${LABEL_PREFIX}/environment`,
} as const;

/** Kubernetes annotations on an environment namespace (values a label cannot hold: `@`, `:`). */
export const ANNOTATIONS = {
  owner: `${LABEL_PREFIX}/owner`,
  expiresAt: `${LABEL_PREFIX}/expires-at`,
} as const;

/** AWS tags: the region provider's `defaultTags` carry them to every taggable resource. */
export const TAGS = {
  stack: `${LABEL_PREFIX}:stack`,
  tier: `${LABEL_PREFIX}:tier`,
  regionRoles: `${LABEL_PREFIX}:region-roles`,
  environment: `${LABEL_PREFIX}:environment`,
  owner: `${LABEL_PREFIX}:owner`,
  expiresAt: `${LABEL_PREFIX}:expires-at`,
} as const;

/** The `tier` tag of the central analysis stack's resources (not a tier: it serves them all). */
export const CENTRAL_TIER = "central";

/** The `environment` tag of a resource that serves every environment of its region (VPC, cluster, bucket). */
export const SHARED_ENVIRONMENT = "shared";

/** `<tier>-<yyyymmdd>-<hhmm>`: the stacks the runner creates for one run and always destroys. */
export const EPHEMERAL_STACK = /^(base|stress|chaos|ultimate)-(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})$/;

/** An ephemeral stack's tier and creation time (UTC), or `undefined` for any other stack name. */
export function parseEphemeralStack(stack: string): { tier: TierName; createdAt: Date } | undefined {
  const m = EPHEMERAL_STACK.exec(stack);
  if (!m) return undefined;
  const [, tier, y, mo, d, h, mi] = m.map((x) => x ?? "");
  const createdAt = new Date(`${y}-${mo}-${d}T${h}:${mi}:00Z`);
  if (
    Number.isNaN(createdAt.getTime()) ||
    createdAt.toISOString().slice(0, 16) !== `${y}-${mo}-${d}T${h}:${mi}`
  )
    return undefined;
  return { tier: tier as TierName, createdAt };
}

const OWNER = /^[A-Za-z0-9][A-Za-z0-9 _.:/=+@-]{0,127}$/;
export const OWNER_EXPECTED =
  "a team or person such as infra-team or jane@example.com: letters, digits, space and _ . : / = + - @, at most 128 characters";

/** Why `value` cannot be an owner (an AWS tag value and an annotation), or `undefined`. */
export function ownerProblem(value: string): string | undefined {
  return OWNER.test(value) ? undefined : "is not an owner";
}

const EXPIRY = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?Z$/;
export const EXPIRY_EXPECTED = "an ISO 8601 UTC time such as 2026-05-01T18:00:00Z";

/** An expiry (`2026-05-01T18:00:00Z`, seconds optional) as a Date, or `undefined` when it is not one. */
export function parseExpiry(value: string): Date | undefined {
  const m = EXPIRY.exec(value);
  if (!m) return undefined;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return undefined;
  // Date accepts 2026-02-30 and rolls it over; an expiry must name a real day and time.
  const [, y, mo, d, h, mi] = m;
  return date.toISOString().startsWith(`${y}-${mo}-${d}T${h}:${mi}`) ? date : undefined;
}

/** The `environment` tag's allowed values: an environment id, or `shared`. */
export function environmentTagProblem(value: string): string | undefined {
  return value === SHARED_ENVIRONMENT || ENVIRONMENT_ID.test(value)
    ? undefined
    : `is neither ${SHARED_ENVIRONMENT} nor an environment id`;
}

export function isTierName(value: string): value is TierName {
  return (TIER_NAMES as readonly string[]).includes(value);
}
