/**
 * What a URN says: `urn:pulumi:<stack>::<project>::<parent type>$…$<type>::<name>`. Policies read
 * the stack name (ephemeral stacks) and the chain of parent types (a bucket inside a BundleStore)
 * from it, which the engine and the offline checker both hand over.
 */

export function stackOfUrn(urn: string): string | undefined {
  return /^urn:pulumi:([^:]+)::/.exec(urn)?.[1];
}

/** The resource's type and its ancestors' types, outermost first (the URN's qualified type). */
export function typeChainOfUrn(urn: string): string[] {
  const parts = urn.split("::");
  return parts.length >= 4 ? parts[2]!.split("$") : [];
}

/** The stack's name, read from the URN of any of its resources. */
export function stackOf(resources: readonly { readonly urn: string }[]): string | undefined {
  for (const r of resources) {
    const stack = stackOfUrn(r.urn);
    if (stack !== undefined) return stack;
  }
  return undefined;
}
