import type { ResourceValidationPolicy } from "@pulumi/policy";
import {
  CENTRAL_TIER,
  environmentTagProblem,
  isTierName,
  ownerProblem,
  parseExpiry,
  TAGS,
} from "../../tiers/infra/identity.js";
import { AWS_PROVIDER_TYPE, providerDefaultTags, taggableAwsTypes } from "../lib/aws.js";
import { joinAnd, stringMap } from "../lib/props.js";

/** Tags every taggable AWS resource carries, and what a value must look like. */
const REQUIRED: readonly { readonly key: string; readonly problem: (v: string) => string | undefined }[] = [
  {
    key: TAGS.tier,
    problem: (v) =>
      isTierName(v) || v === CENTRAL_TIER ? undefined : `is neither a tier nor ${CENTRAL_TIER}`,
  },
  { key: TAGS.environment, problem: environmentTagProblem },
  { key: TAGS.owner, problem: ownerProblem },
];
const expiryProblem = (v: string): string | undefined =>
  parseExpiry(v) ? undefined : "is not an ISO 8601 UTC time";

/** Problems of the tags in `tags`: required ones missing (when `requireAll`) and malformed values. */
function tagProblems(tags: Record<string, string>, requireAll: boolean): string[] {
  const missing = REQUIRED.filter((r) => tags[r.key] === undefined).map((r) => r.key);
  const problems = requireAll && missing.length > 0 ? [`lack ${joinAnd(missing)}`] : [];
  for (const { key, problem } of [...REQUIRED, { key: TAGS.expiresAt, problem: expiryProblem }]) {
    const value = tags[key];
    const p = value !== undefined ? problem(value) : undefined;
    if (p) problems.push(`${key} ${JSON.stringify(value)} ${p}`);
  }
  return problems;
}

export const lifecycleTags: ResourceValidationPolicy = {
  name: "lifecycle-tags",
  description:
    "Every taggable AWS resource carries test-tiers:tier (a tier, or central for the central analysis stack), test-tiers:environment (an environment id, or shared for region-wide resources) and test-tiers:owner, from its region provider's defaultTags or its own tags, so its cost and teardown have an owner.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    if (args.type === AWS_PROVIDER_TYPE) {
      // A tag missing from the provider's defaults is missing from every resource using it:
      // reported here, once, instead of on each resource.
      const tags = providerDefaultTags(args);
      const problems = tagProblems(tags, true);
      if (problems.length === 0) return;
      // TestTier writes tier and environment itself; only the owner comes from the stack config.
      const ownerOnly = problems.length === 1 && problems[0] === `lack ${TAGS.owner}`;
      const fix = ownerOnly
        ? "set test-tiers:owner in the stack config (TestTier puts it into every region provider's defaultTags)"
        : `give the provider defaultTags with valid ${joinAnd(REQUIRED.map((r) => r.key))} (TestTier does: tier, environment "shared", the owner from the stack config)`;
      reportViolation(`AWS provider ${args.name}: its defaultTags ${problems.join("; ")}; ${fix}`);
      return;
    }
    if (!args.type.startsWith("aws:") || !taggableAwsTypes().has(args.type))
      return args.notApplicable("not a taggable AWS resource");
    // The resource's own tags override its provider's; with no provider in view it must carry all.
    const problems = tagProblems(stringMap(args.props.tags), args.provider === undefined);
    if (problems.length > 0)
      reportViolation(
        `${args.name}: its tags ${problems.join("; ")}; fix the resource's tags or leave the key to the provider's defaultTags`,
      );
  },
};
