/** Labels and tags every component writes, so a resource says which stack, tier and region it serves. */

export const LABEL_PREFIX = "test-tiers";

export interface Identity {
  readonly stack: string;
  readonly tier: string;
  readonly region: string;
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
    [`${LABEL_PREFIX}/stack`]: who.stack,
    [`${LABEL_PREFIX}/tier`]: who.tier,
    [`${LABEL_PREFIX}/region`]: who.region,
    [`${LABEL_PREFIX}/environment`]: who.environment,
  };
}

/** AWS tags the region's provider puts on everything (`defaultTags`). */
export function awsTags(who: Identity & { readonly roles: readonly string[] }): Record<string, string> {
  return {
    [`${LABEL_PREFIX}:stack`]: who.stack,
    [`${LABEL_PREFIX}:tier`]: who.tier,
    [`${LABEL_PREFIX}:region-roles`]: who.roles.join(","),
    "managed-by": "pulumi",
  };
}
