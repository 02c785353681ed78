/**
 * AWS resources as policies see them: which types take tags (read from the installed
 * `@pulumi/aws` SDK, so the list follows the provider version the program runs), the tags a
 * resource ends up with (its own over its provider's `defaultTags`), and a provider's region.
 */
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { jsonOrRecord, record, str, stringMap, type Props } from "./props.js";

export const AWS_PROVIDER_TYPE = "pulumi:providers:aws";
export const EKS_CLUSTER_TYPE = "aws:eks/cluster:Cluster";

let taggable: ReadonlySet<string> | undefined;

/**
 * Type tokens of every `@pulumi/aws` resource whose constructor takes `tags` (~860 of ~1,740 in
 * 7.x). Read once from the SDK's generated modules: each declares `static __pulumiType = '<token>'`
 * and copies `args?.tags` into its inputs when it is taggable (~150 ms).
 */
export function taggableAwsTypes(): ReadonlySet<string> {
  if (taggable) return taggable;
  const root = dirname(createRequire(import.meta.url).resolve("@pulumi/aws/package.json"));
  const found = new Set<string>();
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith(".js")) continue;
    // Dirent.parentPath is Node >= 20.12; 20.9 to 20.11 call it `path`.
    const dir = (entry as { parentPath?: string }).parentPath ?? (entry as unknown as { path: string }).path;
    const text = readFileSync(join(dir, entry.name), "utf8");
    const token = /static __pulumiType = '([^']+)'/.exec(text)?.[1];
    if (token && /resourceInputs\["tags"\] = args\?\.tags/.test(text)) found.add(token);
  }
  if (found.size === 0)
    throw new Error(`no taggable resource type found in ${root}: is @pulumi/aws installed?`);
  taggable = found;
  return found;
}

/** The provider's `defaultTags.tags` (provider props may hold `defaultTags` as JSON text). */
export function providerDefaultTags(provider: { readonly props: Props } | undefined): Record<string, string> {
  return stringMap(record(jsonOrRecord(provider?.props.defaultTags))?.tags);
}

/**
 * The tags a resource gets: the provider's defaults, overridden by its own `tags`. (Not `tagsAll`,
 * the provider's computed union of the two: unknown while a preview plans the resource.)
 */
export function effectiveTags(
  props: Props,
  provider: { readonly props: Props } | undefined,
): Record<string, string> {
  return { ...providerDefaultTags(provider), ...stringMap(props.tags) };
}

export function providerRegion(provider: { readonly props: Props }): string | undefined {
  return str(provider.props.region);
}
