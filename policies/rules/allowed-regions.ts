import type { StackValidationPolicy } from "@pulumi/policy";
import { loadCatalog } from "../../tiers/catalog.js";
import { AWS_PROVIDER_TYPE, providerRegion } from "../lib/aws.js";

interface Config {
  readonly allowedRegions: readonly string[];
}

/** Seed 001's deployment topology: where the primary, secondary and tertiary roles live. */
const TOPOLOGY_REGIONS = Object.values(loadCatalog().topology.regions).map((r) => r.location);

export const allowedRegions: StackValidationPolicy = {
  name: "allowed-regions",
  description:
    "AWS resources are created only in allowed regions (by default the topology's: us-east-1, eu-west-1, ap-southeast-1).",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      allowedRegions: {
        type: "array",
        items: { type: "string" },
        minItems: 1,
        uniqueItems: true,
        default: TOPOLOGY_REGIONS,
        description: "AWS regions a stack may use.",
      },
    },
  },
  validateStack: (args, reportViolation) => {
    const providers = args.resources.filter((r) => r.type === AWS_PROVIDER_TYPE);
    if (providers.length === 0) return args.notApplicable("the stack has no AWS provider");
    const { allowedRegions: allowed } = args.getConfig<Config>();
    for (const p of providers) {
      const region = providerRegion(p);
      if (region !== undefined && allowed.includes(region)) continue;
      reportViolation(
        region === undefined
          ? `AWS provider ${p.name} states no region (it would take one from the environment); set region to one of ${allowed.join(", ")}`
          : `AWS provider ${p.name} is for ${region}, which is not an allowed region; use one of ${allowed.join(", ")} or extend allowedRegions in the policy config`,
        p.urn,
      );
    }
  },
};
