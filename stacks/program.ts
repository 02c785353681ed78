import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "../tiers/config/issues.js";
import type { YamlSource } from "../tiers/config/yaml-source.js";
import { TestTier } from "../components/tier/test-tier.js";
import { resolveStack } from "./config/resolve.js";

/**
 * A bad stack config, as the Pulumi CLI should show it: the positioned problems, no stack trace
 * (`RunError`). The `ConfigError` with every issue is its `cause`.
 */
export class StackConfigError extends pulumi.RunError {
  override readonly cause: ConfigError;
  constructor(cause: ConfigError) {
    super(cause.message);
    this.cause = cause;
  }
}

/** What a runner reads from the stack (`pulumi stack output --json`). */
export type StackOutputs = Record<string, unknown>;

/**
 * The program: validate the stack config completely, then build the tier. A bad config throws
 * before any resource is created.
 */
export function runTierProgram(stack: string, source: YamlSource): StackOutputs {
  let resolved;
  try {
    resolved = resolveStack(stack, source);
  } catch (error) {
    if (error instanceof ConfigError) throw new StackConfigError(error);
    throw error;
  }
  const { args, plan } = resolved;
  const tier = new TestTier(stack, args);
  return {
    stack,
    tier: args.tier,
    mode: args.cluster.mode,
    planHash: plan.hash,
    regions: tier.regions,
    environments: tier.environments,
    kubeconfigs: tier.kubeconfigs,
    apiTokens: tier.apiTokens,
  };
}
