/** Labels and tags every component writes, so a resource says which stack, tier, region and owner it serves. */
import { ANNOTATIONS, LABEL_PREFIX, LABELS, SHARED_ENVIRONMENT, TAGS } from "../../tiers/infra/identity.js";

export { LABEL_PREFIX };

export interface Identity {
  readonly stack: string;
  readonly tier: string;
  readonly region: string;
}

/** Who answers for a stack and when it is torn down (stack config `owner`, `expiresAt`). */
export interface Lifecycle {
  readonly owner?: string;
  /** ISO 8601 UTC; ephemeral stacks (`<tier>-<yyyymmdd>-<hhmm>`) must have one. */
  readonly expiresAt?: string;
}

/** Kubernetes labels for an object of an environment. */
export function environmentLabels(
  who: Identity & { readonly environment: string },
  app?: string,
): Record<string, string> {
  return {
    "app.kubernetes.io/part-of": "test-tiers",
    "app.kubernetes.io/managed-by": "pulumi",
    ...(app !== undefined ? { "app.kubernetes.io/name": app } : {}),
    [LABELS.stack]: who.stack,
    [LABELS.tier]: who.tier,
    [LABELS.region]: who.region,
    [LABELS.environment]: who.environment,
  };
}

/** Annotations of an environment namespace: its owner and expiry (values labels cannot hold). */
export function lifecycleAnnotations(life: Lifecycle): Record<string, string> {
  return {
    ...(life.owner !== undefined ? { [ANNOTATIONS.owner]: life.owner } : {}),
    ...(life.expiresAt !== undefined ? { [ANNOTATIONS.expiresAt]: life.expiresAt } : {}),
  };
}

/**
 * AWS tags the region's provider puts on everything (`defaultTags`). Region-wide resources serve
 * every environment, so `environment` is `shared`; a resource of one environment overrides it
 * with `environmentTag`.
 */
export function awsTags(
  who: Identity & Lifecycle & { readonly roles: readonly string[] },
): Record<string, string> {
  return {
    [TAGS.stack]: who.stack,
    [TAGS.tier]: who.tier,
    [TAGS.regionRoles]: who.roles.join(","),
    [TAGS.environment]: SHARED_ENVIRONMENT,
    ...(who.owner !== undefined ? { [TAGS.owner]: who.owner } : {}),
    ...(who.expiresAt !== undefined ? { [TAGS.expiresAt]: who.expiresAt } : {}),
    "managed-by": "pulumi",
  };
}

/** The tag that marks a resource as one environment's (over the provider's `shared`). */
export function environmentTag(environmentId: string): Record<string, string> {
  return { [TAGS.environment]: environmentId };
}
