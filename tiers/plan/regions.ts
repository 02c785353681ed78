import { REGION_ROLES, type RegionRole } from "../schema/names.js";
import type { CompileContext } from "./context.js";
import { issueAtOption } from "./options.js";
import type { PlanRegion } from "./schema.js";

/**
 * The tier's regions: as many as the tier has, taking roles in order primary, secondary,
 * tertiary. Locations default to seed 001's topology; `regions` replaces them. A single-region
 * tier puts every role, and every role's components, in its one region.
 */
export function resolveRegions(ctx: CompileContext, regionCount: number): PlanRegion[] | undefined {
  const { topology } = ctx.catalog;
  const given = ctx.resolved.options.regions;
  const roles = REGION_ROLES.slice(0, regionCount);
  const locations = given ? [...given] : roles.map((r) => topology.regions[r].location);
  const before = ctx.issues.issues.length;
  if (given) {
    if (given.length !== regionCount) {
      ctx.issues.add(
        issueAtOption(ctx.resolved.origins, "regions", {
          message: `tier ${ctx.resolved.options.tier} spans ${regionCount} region${regionCount === 1 ? "" : "s"}`,
          got: `${given.length} (${given.join(", ")})`,
          expected: `${regionCount} region code${regionCount === 1 ? "" : "s"}`,
        }),
      );
    }
    for (const loc of given) {
      if (!topology.known_regions.includes(loc)) {
        ctx.issues.add(
          issueAtOption(ctx.resolved.origins, "regions", {
            message: "unknown region",
            got: JSON.stringify(loc),
            expected: `one of ${topology.known_regions.join(", ")}`,
          }),
        );
      }
    }
    const dupes = given.filter((l, i) => given.indexOf(l) !== i);
    if (dupes.length > 0) {
      ctx.issues.add(
        issueAtOption(ctx.resolved.origins, "regions", {
          message: "a region is listed twice",
          got: JSON.stringify(dupes[0]),
          expected: "distinct regions",
        }),
      );
    }
  }
  if (ctx.issues.issues.length > before) return undefined;

  if (regionCount === 1) {
    const all = REGION_ROLES.map((r) => topology.regions[r]);
    return [
      {
        location: locations[0]!,
        roles: [...REGION_ROLES],
        components: all.flatMap((r) => r.components),
        capacity_instances: topology.regions.primary.resources.compute_instances,
        backbone_gbps: topology.regions.primary.resources.backbone_gbps,
        simulated_latency_ms: topology.simulated_latency_ms.primary,
      },
    ];
  }
  return roles.map((role: RegionRole, i) => ({
    location: locations[i]!,
    roles: [role],
    components: [...topology.regions[role].components],
    capacity_instances: topology.regions[role].resources.compute_instances,
    backbone_gbps: topology.regions[role].resources.backbone_gbps,
    simulated_latency_ms: topology.simulated_latency_ms[role],
  }));
}
