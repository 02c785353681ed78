import type { StackValidationPolicy } from "@pulumi/policy";
import { loadCatalog } from "../../tiers/catalog.js";
import { isTierName, TAGS } from "../../tiers/infra/identity.js";
import { instanceTypeByName, tierCap } from "../lib/capacity.js";
import { computeUnits } from "../lib/compute.js";

const fmt = (n: number): string => n.toLocaleString("en-US");

export const tierCapacity: StackValidationPolicy = {
  name: "tier-capacity",
  description:
    "A tier's nodes at their ceiling stay within the tier catalog's cap: regions × the node group's maxSize × the chosen instance type's vCPU and memory, as the cluster component sizes it.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const units = computeUnits(args.resources);
    if (units.length === 0) return args.notApplicable("the stack has no node group or instance");
    const catalog = loadCatalog();
    const totals = new Map<string, { vcpu: number; memoryGiB: number; parts: string[] }>();
    for (const u of units) {
      if (u.tier === undefined || !isTierName(u.tier)) {
        reportViolation(
          `${u.label} carries no known ${TAGS.tier} tag (got ${JSON.stringify(u.tier ?? null)}), so no tier's cap applies; tag it with its tier`,
          u.resource.urn,
        );
        continue;
      }
      const types = u.instanceTypes.map((name) => ({ name, type: instanceTypeByName(name) }));
      const unknown = types.filter((t) => !t.type).map((t) => t.name);
      if (types.length === 0 || unknown.length > 0) {
        reportViolation(
          `${u.label} runs ${types.length === 0 ? "no stated instance type" : `instance type ${unknown.join(", ")}, which is not in tiers/infra/instance-types.ts`}, so its size is unknown; use a type of the table`,
          u.resource.urn,
        );
        continue;
      }
      // A node may be any of its types: count the largest.
      const vcpu = Math.max(...types.map((t) => t.type!.vcpu));
      const memoryGiB = Math.max(...types.map((t) => t.type!.memoryGiB));
      const total = totals.get(u.tier) ?? { vcpu: 0, memoryGiB: 0, parts: [] };
      total.vcpu += u.maxCount * vcpu;
      total.memoryGiB += u.maxCount * memoryGiB;
      total.parts.push(`${u.label}: ${u.maxCount} × ${u.instanceTypes.join("/")}`);
      totals.set(u.tier, total);
    }
    for (const [tier, total] of totals) {
      const cap = tierCap(catalog, tier as Parameters<typeof tierCap>[1]);
      if (total.vcpu <= cap.vcpu && total.memoryGiB <= cap.memoryGiB) continue;
      reportViolation(
        `tier ${tier} reaches ${fmt(total.vcpu)} vCPU and ${fmt(total.memoryGiB)} GiB at its ceiling (${total.parts.join(", ")}), over the catalog's cap of ${fmt(cap.vcpu)} vCPU and ${fmt(cap.memoryGiB)} GiB (${cap.regions} × ${cap.maxNodes} × ${cap.instanceType.name}); lower maxSize or the instance type`,
      );
    }
  },
};
