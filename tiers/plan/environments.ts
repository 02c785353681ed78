import { describeValue } from "../config/issues.js";
import { environmentSlug, REGION_ROLES, type RegionRole } from "../schema/names.js";
import type { EnvironmentSpec } from "../schema/suite.js";
import { parseResources } from "../infra/sizing.js";
import { suiteIssue, type CompileContext } from "./context.js";
import { issueAtOption } from "./options.js";
import type { PlanEnvironment, PlanRegion } from "./schema.js";

export type EnvironmentBase = Omit<PlanEnvironment, "phases">;

/**
 * The plan's isolated environments: those the suite file defines, or `environments` generated ones
 * (`env-1` …), or one per region of the tier. Each is placed in a region (its `region`, a role or
 * a location, else round-robin) and gets the catalog's defaults for what it does not say.
 */
export function resolveEnvironments(ctx: CompileContext, regions: readonly PlanRegion[]): EnvironmentBase[] {
  const defined = ctx.suiteFile.content.environments;
  const count = ctx.resolved.options.environments;
  if (defined && count !== undefined && ctx.resolved.origins.environments?.file !== "defaults") {
    ctx.issues.add(
      issueAtOption(ctx.resolved.origins, "environments", {
        message: `the suite file ${ctx.suiteFile.file} already defines its environments`,
        got: String(count),
        expected: "no environment count with a file that lists environments",
      }),
    );
    return [];
  }
  const entries: [string, EnvironmentSpec][] = defined
    ? Object.entries(defined)
    : Array.from({ length: count ?? regions.length }, (_, i) => [`env-${i + 1}`, {}]);

  const defaults = ctx.catalog.environmentDefaults;
  const seenSlugs = new Map<string, string>();
  const seenNames = new Map<string, string>();
  const out: EnvironmentBase[] = [];
  entries.forEach(([id, spec], index) => {
    const path = ["environments", id];
    const slug = environmentSlug(id);
    const clash = seenSlugs.get(slug);
    if (clash !== undefined) {
      ctx.issues.add(
        suiteIssue(
          ctx,
          path,
          {
            message: `duplicate environment: ${id} and ${clash} both become ${slug}`,
            got: JSON.stringify(id),
            expected: "environment ids that differ by more than - and _",
          },
          { key: true },
        ),
      );
      return;
    }
    seenSlugs.set(slug, id);
    const name = spec.name ?? id;
    const nameClash = seenNames.get(name);
    if (nameClash !== undefined) {
      ctx.issues.add(
        suiteIssue(ctx, [...path, "name"], {
          message: `duplicate environment name: ${nameClash} already has it`,
          got: JSON.stringify(name),
          expected: "a name no other environment has",
        }),
      );
      return;
    }
    seenNames.set(name, id);

    let region: PlanRegion | undefined = regions[index % regions.length];
    let role: RegionRole = region!.roles[0]!;
    if (spec.region !== undefined) {
      const byRole = regions.find((r) => r.roles.includes(spec.region as RegionRole));
      const byLocation = regions.find((r) => r.location === spec.region);
      region = byRole ?? byLocation;
      if (!region) {
        const roles = regions.flatMap((r) => r.roles);
        ctx.issues.add(
          suiteIssue(ctx, [...path, "region"], {
            message: `not a region of tier ${ctx.resolved.options.tier}`,
            got: JSON.stringify(spec.region),
            expected: `one of ${[...roles, ...regions.map((r) => r.location)].join(", ")}`,
          }),
        );
        return;
      }
      role = byRole ? (spec.region as RegionRole) : region.roles[0]!;
    }
    for (const [tool, p] of Object.entries(spec.tools ?? {})) {
      if (!p.startsWith("/")) {
        ctx.issues.add(
          suiteIssue(ctx, [...path, "tools", tool], {
            message: "a tool path must be absolute",
            got: JSON.stringify(p),
            expected: "a path starting with /",
          }),
        );
      }
    }
    const resources = parseResources(spec.resources ?? defaults.resources);
    if (!resources) {
      ctx.issues.add(
        suiteIssue(ctx, [...path, "resources"], {
          message: "resources too small",
          got: describeValue(spec.resources),
          expected: "at least 1m of CPU and 1 byte of memory",
        }),
      );
      return;
    }
    out.push({
      id,
      slug,
      name,
      region: region!.location,
      role: REGION_ROLES.includes(role) ? role : "primary",
      max_parallel: spec.max_parallel ?? defaults.max_parallel,
      resources,
      tools: { ...(spec.tools ?? {}) },
      storage: {
        ...(spec.storage?.path !== undefined ? { path: spec.storage.path } : {}),
        format: "sqlite",
      },
    });
  });
  return out;
}
