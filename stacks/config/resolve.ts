import { loadCatalog, type Catalog } from "../../tiers/catalog.js";
import { IssueCollector } from "../../tiers/config/issues.js";
import type { YamlSource } from "../../tiers/config/yaml-source.js";
import type { CyclePlan } from "../../tiers/plan/schema.js";
import type { TestTierArgs } from "../../components/tier/test-tier.js";
import { layoutTier } from "./layout.js";
import { compileStackPlan, type StackPlanOptions } from "./plan.js";
import { validateStackSettings } from "./validate.js";

export interface ResolvedStack {
  readonly args: TestTierArgs;
  readonly plan: CyclePlan;
}

/**
 * Stack config → everything TestTier needs, or one `ConfigError` with every problem found
 * (`stacks/Pulumi.<stack>.yaml:line:col test-tiers:key: message (got X, expected Y)`).
 * Pure: no resource exists until this has returned.
 */
export function resolveStack(
  stack: string,
  source: YamlSource,
  catalog: Catalog = loadCatalog(),
  planOptions: StackPlanOptions = {},
): ResolvedStack {
  const issues = new IssueCollector();
  const summary = `invalid stack configuration in ${source.file}`;
  const settings = validateStackSettings(source, issues);
  if (!settings) issues.throwIfAny(summary);
  const plan = compileStackPlan(source, settings!, catalog, issues, planOptions);
  if (!plan) issues.throwIfAny(summary);
  const laid = layoutTier(stack, source, settings!, plan!, catalog, issues);
  issues.throwIfAny(summary);
  return laid!;
}
