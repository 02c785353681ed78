import type { StackValidationPolicy } from "@pulumi/policy";
import { loadCatalog } from "../../tiers/catalog.js";
import { isTierName } from "../../tiers/infra/identity.js";
import { allowedInstanceTypesByTier } from "../lib/capacity.js";
import { computeUnits } from "../lib/compute.js";

interface Config {
  readonly allowedInstanceTypes: Readonly<Record<string, readonly string[]>>;
}

const DEFAULT_ALLOWED = allowedInstanceTypesByTier(loadCatalog());

export const tierInstanceTypes: StackValidationPolicy = {
  name: "tier-instance-types",
  description:
    "Nodes use only the instance types allowed for their tier: by default those with the tier's cores and memory and the fewest vCPU (tiers/infra/instance-types.ts).",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      allowedInstanceTypes: {
        type: "object",
        properties: Object.fromEntries(
          Object.keys(DEFAULT_ALLOWED).map((t) => [t, { type: "array", items: { type: "string" } }]),
        ),
        additionalProperties: false,
        default: DEFAULT_ALLOWED,
        description: "Tier → the EC2 instance types its node groups and instances may use.",
      },
    },
  },
  validateStack: (args, reportViolation) => {
    const units = computeUnits(args.resources).filter((u) => u.tier !== undefined && isTierName(u.tier));
    if (units.length === 0) return args.notApplicable("the stack has no node group or instance of a tier");
    const { allowedInstanceTypes } = args.getConfig<Config>();
    for (const u of units) {
      const allowed = allowedInstanceTypes[u.tier!] ?? [];
      const refused = u.instanceTypes.filter((t) => !allowed.includes(t));
      if (refused.length === 0) continue;
      reportViolation(
        `${u.label} of tier ${u.tier!} uses ${refused.join(", ")}, not allowed for the tier; use ${allowed.join(" or ") || "no type (none is allowed)"}`,
        u.resource.urn,
      );
    }
  },
};
