import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadCatalog } from "../../../tiers/catalog.js";
import {
  chooseInstanceType,
  eligibleInstanceTypes,
  INSTANCE_TYPES,
  instanceTypeByName,
  satisfies,
} from "../../../tiers/infra/instance-types.js";
import { TIER_NAMES } from "../../../tiers/schema/names.js";

const catalog = loadCatalog();

describe("instance type table", () => {
  // A known-good regression table: AWS's published vCPU / memory of a few types.
  it.each([
    ["m6i.large", 2, 8],
    ["m6i.xlarge", 4, 16],
    ["m6i.8xlarge", 32, 128],
    ["m6i.32xlarge", 128, 512],
    ["r6i.2xlarge", 8, 64],
    ["r6i.32xlarge", 128, 1024],
    ["c6i.4xlarge", 16, 32],
    ["c6i.12xlarge", 48, 96],
  ])("%s has %i vCPU and %i GiB", (name, vcpu, memoryGiB) => {
    expect(instanceTypeByName(name)).toMatchObject({ vcpu, memoryGiB });
  });

  it("has unique names", () => {
    expect(new Set(INSTANCE_TYPES.map((t) => t.name)).size).toBe(INSTANCE_TYPES.length);
  });
});

describe("chooseInstanceType", () => {
  it.each([
    ["base", "m6i.xlarge"],
    ["stress", "m6i.2xlarge"],
    ["chaos", "m6i.4xlarge"],
    ["ultimate", "m6i.8xlarge"],
  ] as const)("tier %s → %s (exactly the tier's cores, memory ≥ the tier's GB)", (tier, expected) => {
    const c = catalog.tiers[tier].compute;
    const chosen = chooseInstanceType({ cpuCores: c.cpu_cores, memoryGb: c.memory_gb })!;
    expect(chosen.name).toBe(expected);
    expect(chosen.vcpu).toBe(c.cpu_cores);
    expect(chosen.memoryGiB * 2 ** 30).toBeGreaterThanOrEqual(c.memory_gb * 1e9);
  });

  it("every tier of the catalog gets a type", () => {
    for (const tier of TIER_NAMES) {
      const c = catalog.tiers[tier].compute;
      expect(chooseInstanceType({ cpuCores: c.cpu_cores, memoryGb: c.memory_gb })).toBeDefined();
    }
  });

  it("picks memory-optimised or compute-optimised types when the ratio asks for it", () => {
    expect(chooseInstanceType({ cpuCores: 8, memoryGb: 60 })?.name).toBe("r6i.2xlarge");
    expect(chooseInstanceType({ cpuCores: 16, memoryGb: 30 })?.name).toBe("c6i.4xlarge");
  });

  it("returns undefined when nothing is large enough", () => {
    expect(chooseInstanceType({ cpuCores: 256, memoryGb: 16 })).toBeUndefined();
    expect(chooseInstanceType({ cpuCores: 2, memoryGb: 2000 })).toBeUndefined();
  });

  it("property: the chosen type satisfies the need and no eligible type is smaller", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 140 }),
        fc.integer({ min: 1, max: 1200 }),
        (cpuCores, memoryGb) => {
          const need = { cpuCores, memoryGb };
          const chosen = chooseInstanceType(need);
          const eligible = INSTANCE_TYPES.filter((t) => satisfies(t, need));
          if (!chosen) return eligible.length === 0;
          return (
            satisfies(chosen, need) &&
            eligible.every(
              (t) => t.vcpu > chosen.vcpu || (t.vcpu === chosen.vcpu && t.memoryGiB >= chosen.memoryGiB),
            ) &&
            eligibleInstanceTypes(need)[0] === chosen
          );
        },
      ),
    );
  });
});
