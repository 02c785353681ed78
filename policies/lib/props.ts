/**
 * Reading resource properties as policies receive them: plain JSON-like data whose shape the
 * policy cannot trust (a program may pass anything the SDK serializes).
 */

export type Props = Record<string, unknown>;

/**
 * `props[key]`, or `undefined` while the engine does not know it yet. During `pulumi preview` a
 * computed output of a resource to be created (a bucket's generated name, its ARN, an input made
 * from another resource's id) is unknown, and reading it throws; a stack policy reads such a value
 * only to match or name things, so it goes without it. Inputs a policy judges are read directly:
 * then the engine reports the policy as not runnable during preview, instead of a false violation.
 */
export function known(props: Props, key: string): unknown {
  try {
    return props[key];
  } catch {
    return undefined;
  }
}

/** The value at `path`, or `undefined` when any step is missing or not a container. */
export function get(value: unknown, path: readonly (string | number)[]): unknown {
  let cur = value;
  for (const k of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string | number, unknown>)[k];
  }
  return cur;
}

export function record(value: unknown): Props | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Props) : undefined;
}

export function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** String entries of a map (labels, tags, annotations); other values are left out. */
export function stringMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(record(value) ?? {})) if (typeof v === "string") out[k] = v;
  return out;
}

/**
 * A map that may arrive JSON-encoded: the Pulumi SDK serializes a provider's non-string inputs
 * (`defaultTags`) as JSON text, so a provider's props hold `'{"tags":{…}}'`, not an object.
 */
export function jsonOrRecord(value: unknown): Props | undefined {
  if (typeof value !== "string") return record(value);
  try {
    return record(JSON.parse(value));
  } catch {
    return undefined;
  }
}

/** `a, b and c` */
export function joinAnd(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} and ${items.at(-1)!}`;
}
