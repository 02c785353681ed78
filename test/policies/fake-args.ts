/**
 * The one helper that builds policy arguments for unit tests. Arguments come from the same
 * builders the offline check uses (runners/policy/args.ts), which mirror `@pulumi/policy`'s
 * analyzer server: `isType`/`asType` match the class's type token, `getConfig` gives the schema's
 * defaults under any override, `notApplicable` throws, `stackTags` is a read-only map, stack
 * resources have parent and dependencies resolved. `engine-parity.test.ts` checks the builders
 * against the SDK's own server.
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import {
  frozenMap,
  policyResources,
  PolicyNotApplicable,
  resourceValidationArgs,
  stackValidationArgs,
  type ResourceInput,
} from "../../runners/policy/args.js";
import { configFor, type PolicyConfig } from "../../runners/policy/check.js";

export const PROJECT = "test-tiers";

export interface FakeResource extends ResourceInput {
  readonly dependencies?: readonly string[];
  readonly propertyDependencies?: Readonly<Record<string, readonly string[]>>;
}

/** `urn:pulumi:<stack>::test-tiers::<parent types>$<type>::<name>` */
export function urnOf(
  type: string,
  name: string,
  options: { stack?: string; parents?: readonly string[] } = {},
): string {
  return `urn:pulumi:${options.stack ?? "base"}::${PROJECT}::${[...(options.parents ?? []), type].join("$")}::${name}`;
}

/** A resource with its URN; `stack` (default `base`) and the parent types go into the URN. */
export function fake(
  type: string,
  name: string,
  props: Record<string, unknown>,
  extra: Partial<Omit<FakeResource, "type" | "name" | "props">> & {
    stack?: string;
    parents?: readonly string[];
  } = {},
): FakeResource {
  const { stack, parents, ...rest } = extra;
  return {
    type,
    name,
    urn: urnOf(type, name, { ...(stack !== undefined ? { stack } : {}), ...(parents ? { parents } : {}) }),
    props,
    ...rest,
  };
}

/** An AWS provider as the SDK registers it: `defaultTags` arrives JSON-encoded, like every non-string provider input. */
export function awsProvider(
  name: string,
  region: string | undefined,
  tags: Record<string, string>,
  stack = "base",
): FakeResource {
  return fake(
    "pulumi:providers:aws",
    name,
    { ...(region !== undefined ? { region } : {}), defaultTags: JSON.stringify({ tags }) },
    { stack },
  );
}

/** `r` as used through `provider`: what the engine hands a policy as `args.provider`. */
export function using(r: FakeResource, provider: FakeResource): FakeResource {
  return {
    ...r,
    provider: { type: provider.type, name: provider.name, urn: provider.urn, props: provider.props },
  };
}

export interface Outcome {
  /** Every reported violation: the message, and the URN a stack policy named (undefined: the stack). */
  readonly violations: readonly { readonly message: string; readonly urn?: string }[];
  /** The reason, when the policy called notApplicable(). */
  readonly notApplicable?: string;
}

interface RunOptions {
  readonly config?: PolicyConfig;
  readonly stackTags?: Readonly<Record<string, string>>;
}

function contextFor(policy: ResourceValidationPolicy | StackValidationPolicy, options: RunOptions) {
  return {
    config: configFor(policy, options.config),
    stackTags: frozenMap(options.stackTags ?? { "pulumi:project": PROJECT }),
  };
}

async function outcome(
  run: (report: (message: string, urn?: string) => void) => Promise<void> | void,
): Promise<Outcome> {
  const violations: { message: string; urn?: string }[] = [];
  try {
    await run((message, urn) => violations.push({ message, ...(urn !== undefined ? { urn } : {}) }));
  } catch (e) {
    if (e instanceof PolicyNotApplicable)
      return { violations, ...(e.reason !== undefined ? { notApplicable: e.reason } : {}) };
    throw e;
  }
  return { violations };
}

/** Runs a resource policy's validations on one resource. */
export function validateResource(
  policy: ResourceValidationPolicy,
  r: FakeResource,
  options: RunOptions = {},
): Promise<Outcome> {
  const args = resourceValidationArgs(r, contextFor(policy, options));
  return outcome(async (report) => {
    for (const validate of [policy.validateResource ?? []].flat()) await validate(args, (m) => report(m));
  });
}

/** Runs a stack policy over `resources`. */
export function validateStack(
  policy: StackValidationPolicy,
  resources: readonly FakeResource[],
  options: RunOptions = {},
): Promise<Outcome> {
  const args = stackValidationArgs(policyResources(resources), contextFor(policy, options));
  return outcome((report) => policy.validateStack(args, report));
}

/** The messages only, for tables of exact messages. */
export async function messages(o: Promise<Outcome>): Promise<string[]> {
  return (await o).violations.map((v) => v.message);
}
