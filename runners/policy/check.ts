/**
 * Applies the policy pack to a captured graph the way the engine applies it during
 * `pulumi preview --policy-pack`: every resource policy to every registered resource, every stack
 * policy once to the whole graph, with the enforcement level each policy declares.
 */
import type { PolicyProviderResource } from "@pulumi/policy";
import { isStackPolicy, POLICIES, type AnyPolicy } from "../../policies/policies.js";
import type { CapturedGraph, CapturedResource } from "../infra/graph.js";
import { SECRET_MARKER } from "../infra/graph.js";
import {
  frozenMap,
  policyResources,
  PolicyNotApplicable,
  resourceValidationArgs,
  stackValidationArgs,
  type ArgsContext,
  type ResourceInput,
} from "./args.js";

export type EnforcementLevel = "mandatory" | "advisory";

export interface Violation {
  readonly policy: string;
  /** The policy's description (the engine prints it above the message). */
  readonly description: string;
  readonly level: EnforcementLevel;
  /** The resource in violation, or the root stack for a violation of the stack as a whole. */
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  /** What the policy reported: what is wrong and how to fix it. */
  readonly message: string;
}

export interface GraphCheck {
  readonly violations: readonly Violation[];
  /**
   * Per policy: how many resources it checked (1 for a stack policy that ran), not counting those
   * it declared itself not applicable to. A policy at 0 had nothing to check in this stack.
   */
  readonly applied: Readonly<Record<string, number>>;
}

/** Per policy name: config properties over the schema's defaults (a `--policy-pack-config` file's shape). */
export type PolicyConfig = Readonly<Record<string, Readonly<Record<string, unknown>>>>;

/**
 * The config a policy sees: its `configSchema` defaults, then `overrides`, as the engine reconciles
 * a pack's config before configuring it (pkg/resource/analyzer/config.go).
 */
export function configFor(policy: AnyPolicy, overrides: PolicyConfig = {}): Record<string, unknown> {
  const defaults: Record<string, unknown> = {};
  for (const [k, schema] of Object.entries(policy.configSchema?.properties ?? {})) {
    if (schema.default !== undefined) defaults[k] = structuredClone(schema.default);
  }
  const { enforcementLevel: _level, ...given } = overrides[policy.name] ?? {};
  return { ...defaults, ...given };
}

/** The level the engine applies: the policy's, `remediate` counted as mandatory, advisory by default. */
export function enforcementLevelOf(policy: AnyPolicy): EnforcementLevel | "disabled" {
  const level = policy.enforcementLevel ?? "advisory";
  return level === "remediate" ? "mandatory" : level;
}

/**
 * Config the offline check always sets: in a captured graph every Pulumi secret is the marker,
 * so no-plaintext-secrets can hold secret inputs to being Pulumi secrets.
 */
export const OFFLINE_CONFIG: PolicyConfig = {
  "no-plaintext-secrets": { redactedSecretMarker: SECRET_MARKER },
};

export async function checkGraph(
  graph: CapturedGraph,
  options: { readonly policies?: readonly AnyPolicy[]; readonly config?: PolicyConfig } = {},
): Promise<GraphCheck> {
  const policies = options.policies ?? POLICIES;
  const config = { ...OFFLINE_CONFIG, ...options.config };
  const byUrn = new Map(graph.resources.map((r) => [r.urn, r]));
  const inputs = graph.resources.map((r) => resourceInput(r, byUrn));
  const stackUrn =
    graph.root ??
    `urn:pulumi:${graph.stack}::${graph.project}::pulumi:pulumi:Stack::${graph.project}-${graph.stack}`;
  const stackTags = frozenMap({ "pulumi:project": graph.project, "pulumi:runtime": "nodejs" });
  const violations: Violation[] = [];
  const applied: Record<string, number> = {};

  for (const policy of policies) {
    const level = enforcementLevelOf(policy);
    if (level === "disabled") continue;
    const ctx: ArgsContext = { config: configFor(policy, config), stackTags };
    const report =
      (fallback: { urn: string; type: string; name: string }) => (message: string, urn?: string) => {
        const at = urn !== undefined ? (byUrn.get(urn) ?? { ...fallback, urn }) : fallback;
        violations.push({
          policy: policy.name,
          description: policy.description,
          level,
          urn: at.urn,
          type: at.type,
          name: at.name,
          message,
        });
      };
    applied[policy.name] = 0;
    const run = async (validate: () => Promise<void> | void, where: string): Promise<void> => {
      try {
        await validate();
        applied[policy.name]!++;
      } catch (e) {
        if (e instanceof PolicyNotApplicable) return;
        throw new Error(`policy ${policy.name} failed on ${where}: ${(e as Error).message}`, { cause: e });
      }
    };
    const stackResource = {
      urn: stackUrn,
      type: "pulumi:pulumi:Stack",
      name: `${graph.project}-${graph.stack}`,
    };
    if (isStackPolicy(policy)) {
      const args = stackValidationArgs(policyResources(inputs), ctx);
      // A stack policy's violation without a URN belongs to the stack; resource violations are the
      // resource's (the engine ignores a URN a resource policy passes).
      await run(() => policy.validateStack(args, report(stackResource)), `stack ${graph.stack}`);
      continue;
    }
    const validations = [policy.validateResource ?? []].flat();
    for (const r of inputs) {
      for (const validate of validations) {
        const args = resourceValidationArgs(r, ctx);
        const own = report({ urn: r.urn, type: r.type, name: r.name });
        await run(() => validate(args, (message) => own(message)), r.urn);
      }
    }
  }
  return { violations, applied };
}

function resourceInput(
  r: CapturedResource,
  byUrn: ReadonlyMap<string, CapturedResource>,
): ResourceInput & {
  dependencies: readonly string[];
  propertyDependencies: Record<string, readonly string[]>;
} {
  const p = r.provider !== undefined ? byUrn.get(r.provider) : undefined;
  const provider: PolicyProviderResource | undefined = p
    ? { type: p.type, name: p.name, urn: p.urn, props: p.inputs }
    : undefined;
  return {
    type: r.type,
    name: r.name,
    urn: r.urn,
    props: r.inputs,
    ...(r.parent !== undefined ? { parent: r.parent } : {}),
    ...(provider ? { provider } : {}),
    options: r.options,
    dependencies: r.dependencies,
    propertyDependencies: { ...r.propertyDependencies },
  };
}
