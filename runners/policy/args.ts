/**
 * The arguments a CrossGuard policy receives, built the way `@pulumi/policy`'s analyzer server
 * builds them from the engine's requests (server.js `makeAnalyzeRpcFun`/`makeAnalyzeStackRpcFun`),
 * so a policy cannot tell this from `pulumi preview --policy-pack`:
 *
 * - `isType(C)` compares the type token with `C.__pulumiType` (falling back to `C.isInstance`);
 *   `asType(C)` returns the props only when it matches;
 * - `getConfig()` returns the policy's config without `enforcementLevel`, with the defaults of its
 *   `configSchema` filled in as the engine does before it configures a pack; `{}` without config;
 * - `notApplicable(reason)` throws, and the caller records the policy as not applicable;
 * - `stackTags` is a read-only map; `opts` the resource options; `provider` the provider
 *   resource's type, name, URN and inputs;
 * - stack policies get every resource with `parent`, `dependencies` and `propertyDependencies`
 *   resolved to the resource objects.
 *
 * Where the offline data differs from the engine's, it is the data, not the arguments: props are
 * the captured inputs (the engine gives stack policies outputs, a superset for these resources),
 * and a Pulumi secret is the marker `[secret]` (the engine hands policies the decrypted value).
 */
import type {
  PolicyProviderResource,
  PolicyResource,
  PolicyResourceOptions,
  ResourceValidationArgs,
  StackValidationArgs,
} from "@pulumi/policy";
import type { Resource } from "@pulumi/pulumi";

/** Thrown by `notApplicable()`; the policy does not apply to this resource or stack. */
export class PolicyNotApplicable extends Error {
  constructor(readonly reason?: string) {
    super(reason ?? "Policy does not apply");
  }
}

/** A resource as the engine describes it to a policy. */
export interface ResourceInput {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  readonly props: Record<string, unknown>;
  readonly parent?: string;
  readonly provider?: PolicyProviderResource;
  readonly options?: {
    readonly protect?: boolean;
    readonly ignoreChanges?: readonly string[];
    readonly additionalSecretOutputs?: readonly string[];
  };
}

/** What the engine knows about the run, for every policy. */
export interface ArgsContext {
  /** This policy's config (defaults already filled in), without enforcementLevel. */
  readonly config: Record<string, unknown>;
  readonly stackTags: ReadonlyMap<string, string>;
}

type ResourceClass = { new (...rest: never[]): Resource };

/** `@pulumi/policy`'s `isTypeOf`: the generated class's type token, else its `isInstance`. */
export function isTypeOf(type: string, resourceClass: unknown): boolean {
  const cls = resourceClass as { __pulumiType?: unknown; isInstance?: unknown };
  if (typeof cls.__pulumiType === "string") return cls.__pulumiType === type;
  return (
    typeof cls.isInstance === "function" &&
    (cls.isInstance as (o: unknown) => unknown)({ __pulumiType: type }) === true
  );
}

export function resourceOptions(r: ResourceInput): PolicyResourceOptions {
  return {
    protect: r.options?.protect ?? false,
    ignoreChanges: [...(r.options?.ignoreChanges ?? [])],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [...(r.options?.additionalSecretOutputs ?? [])],
    ...(r.parent !== undefined ? { parent: r.parent } : {}),
  };
}

function throwNotApplicable(reason?: string): never {
  throw new PolicyNotApplicable(reason);
}

/** The arguments of `validateResource` for one resource. */
export function resourceValidationArgs(r: ResourceInput, ctx: ArgsContext): ResourceValidationArgs {
  const props = r.props;
  return {
    type: r.type,
    props,
    urn: r.urn,
    name: r.name,
    opts: resourceOptions(r),
    ...(r.provider ? { provider: r.provider } : {}),
    stackTags: ctx.stackTags,
    isType: (cls: ResourceClass) => isTypeOf(r.type, cls),
    asType: ((cls: ResourceClass) =>
      isTypeOf(r.type, cls) ? props : undefined) as ResourceValidationArgs["asType"],
    getConfig: <T extends object>() => structuredClone(ctx.config) as T,
    notApplicable: throwNotApplicable,
  };
}

/** The resources of a stack as `validateStack` sees them, parents and dependencies resolved. */
export function policyResources(
  inputs: readonly (ResourceInput & {
    readonly dependencies?: readonly string[];
    readonly propertyDependencies?: Readonly<Record<string, readonly string[]>>;
  })[],
): PolicyResource[] {
  const byUrn = new Map<string, PolicyResource>();
  const resources = inputs.map((r) => {
    const resource: PolicyResource = {
      type: r.type,
      props: r.props,
      urn: r.urn,
      name: r.name,
      opts: resourceOptions(r),
      ...(r.provider ? { provider: r.provider } : {}),
      dependencies: [],
      propertyDependencies: {},
      isType: (cls: ResourceClass) => isTypeOf(r.type, cls),
      asType: ((cls: ResourceClass) =>
        isTypeOf(r.type, cls) ? r.props : undefined) as PolicyResource["asType"],
    };
    byUrn.set(r.urn, resource);
    return resource;
  });
  inputs.forEach((r, i) => {
    const resource = resources[i]!;
    const parent = r.parent !== undefined ? byUrn.get(r.parent) : undefined;
    if (parent) resource.parent = parent;
    const resolve = (urns: readonly string[]): PolicyResource[] =>
      urns.map((u) => byUrn.get(u)).filter((x): x is PolicyResource => x !== undefined);
    resource.dependencies = resolve(r.dependencies ?? []);
    for (const [k, urns] of Object.entries(r.propertyDependencies ?? {}))
      resource.propertyDependencies[k] = resolve(urns);
  });
  return resources;
}

/** The arguments of `validateStack`. */
export function stackValidationArgs(resources: PolicyResource[], ctx: ArgsContext): StackValidationArgs {
  return {
    resources,
    stackTags: ctx.stackTags,
    getConfig: <T extends object>() => structuredClone(ctx.config) as T,
    notApplicable: throwNotApplicable,
  };
}

/** A read-only map with only the read methods, as the analyzer hands `stackTags` over (server.js `freezeMap`). */
export function frozenMap(entries: Readonly<Record<string, string>>): ReadonlyMap<string, string> {
  const map = new Map(Object.entries(entries));
  const readOnly: ReadonlyMap<string, string> = {
    entries: map.entries.bind(map),
    forEach: map.forEach.bind(map),
    get: map.get.bind(map),
    has: map.has.bind(map),
    keys: map.keys.bind(map),
    size: map.size,
    values: map.values.bind(map),
    [Symbol.iterator]: map[Symbol.iterator].bind(map),
  };
  return Object.freeze(readOnly);
}
