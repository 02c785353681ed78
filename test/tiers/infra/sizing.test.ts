import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadCatalog } from "../../../tiers/catalog.js";
import {
  cpuQuantity,
  environmentCapacity,
  ENVIRONMENT_FRACTION,
  gbToGiB,
  memoryQuantity,
  NODE_USABLE_FRACTION,
  parseResources,
  shareCapacity,
  sizeNodeGroup,
  VOLUME_FOR_MEDIA,
} from "../../../tiers/infra/sizing.js";
import { TIER_NAMES } from "../../../tiers/schema/names.js";

const catalog = loadCatalog();
const GIB = 2 ** 30;

describe("sizeNodeGroup", () => {
  it.each(TIER_NAMES.map((t) => [t]))(
    "%s: min = desired = the tier's instances, max from the heaviest phase it runs",
    (tier) => {
      const spec = catalog.tiers[tier];
      const sizing = sizeNodeGroup(catalog, tier);
      expect(sizing.minSize).toBe(spec.compute.instances);
      expect(sizing.desiredSize).toBe(spec.compute.instances);
      const heaviest = spec.phases.filter((p) => catalog.phases[p].scaling !== null).at(-1)!;
      expect(sizing.maxFrom).toBe(heaviest);
      expect(sizing.maxSize).toBe(
        Math.max(spec.compute.instances, catalog.phases[heaviest].scaling!.instances),
      );
      expect(sizing.volume).toStrictEqual(VOLUME_FOR_MEDIA[spec.compute.storage_media]);
      expect(sizing.volumeSizeGiB * GIB).toBeGreaterThanOrEqual(spec.compute.storage_gb * 1e9);
      expect((sizing.volumeSizeGiB - 1) * GIB).toBeLessThan(spec.compute.storage_gb * 1e9);
    },
  );

  it("reads the matrix rows the docs name: base→light 10, stress→heavy 40, chaos and ultimate→extreme 80", () => {
    expect(
      TIER_NAMES.map((t) => [sizeNodeGroup(catalog, t).maxFrom, sizeNodeGroup(catalog, t).maxSize]),
    ).toStrictEqual([
      ["light", 10],
      ["heavy", 40],
      ["extreme", 80],
      ["extreme", 80],
    ]);
  });

  it.each([
    [100, 94],
    [500, 466],
    [1000, 932],
    [2000, 1863],
  ])("gbToGiB(%i) = %i", (gb, gib) => expect(gbToGiB(gb)).toBe(gib));
});

describe("environmentCapacity", () => {
  it("is desired nodes × usable fraction × environment fraction", () => {
    const sizing = sizeNodeGroup(catalog, "stress");
    const cap = environmentCapacity(sizing);
    expect(cap.cpu_millis).toBe(
      Math.floor(Math.floor(8000 * NODE_USABLE_FRACTION.cpu) * 10 * ENVIRONMENT_FRACTION),
    );
    expect(cap.memory_bytes).toBe(
      Math.floor(Math.floor(32 * GIB * NODE_USABLE_FRACTION.memory) * 10 * ENVIRONMENT_FRACTION),
    );
  });
});

describe("shareCapacity", () => {
  const cap = { cpu_millis: 10_000, memory_bytes: 10 * GIB };

  it("gives explicit resources as stated and splits the rest evenly", () => {
    const r = shareCapacity(cap, [
      { id: "a" },
      { id: "b", explicit: { cpu_millis: 4000, memory_bytes: 4 * GIB } },
      { id: "c" },
    ]);
    expect(r).toStrictEqual({
      ok: true,
      quotas: new Map([
        ["a", { cpu_millis: 3000, memory_bytes: 3 * GIB }],
        ["b", { cpu_millis: 4000, memory_bytes: 4 * GIB }],
        ["c", { cpu_millis: 3000, memory_bytes: 3 * GIB }],
      ]),
    });
  });

  it("refuses explicit resources beyond the capacity", () => {
    expect(
      shareCapacity(cap, [{ id: "a", explicit: { cpu_millis: 12_000, memory_bytes: GIB } }]),
    ).toStrictEqual({
      ok: false,
      problem: "the environments ask for 12 CPU, 1Gi memory but the region offers 10 CPU, 10Gi memory",
    });
  });

  it("property: quotas never exceed the capacity in total, and explicit ones are kept", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.option(
            fc.record({
              cpu_millis: fc.integer({ min: 1, max: 5000 }),
              memory_bytes: fc.integer({ min: 1, max: 5 * GIB }),
            }),
          ),
          {
            minLength: 1,
            maxLength: 16,
          },
        ),
        (specs) => {
          const requests = specs.map((explicit, i) => ({ id: `e${i}`, ...(explicit ? { explicit } : {}) }));
          const r = shareCapacity(cap, requests);
          if (!r.ok) return true;
          const all = [...r.quotas.values()];
          const cpu = all.reduce((n, q) => n + q.cpu_millis, 0);
          const mem = all.reduce((n, q) => n + q.memory_bytes, 0);
          return (
            cpu <= cap.cpu_millis &&
            mem <= cap.memory_bytes &&
            requests.every((q) => !q.explicit || r.quotas.get(q.id) === q.explicit)
          );
        },
      ),
    );
  });
});

describe("quantities", () => {
  it.each([
    [
      { cpu: 2, memory: "4Gi" },
      { cpu_millis: 2000, memory_bytes: 4 * GIB },
    ],
    [
      { cpu: 0.5, memory: "512Mi" },
      { cpu_millis: 500, memory_bytes: 512 * 2 ** 20 },
    ],
    [
      { cpu: "250m", memory: "16GB" },
      { cpu_millis: 250, memory_bytes: 16e9 },
    ],
    [{ cpu: "0m", memory: "1Gi" }, undefined],
    [{ cpu: "2", memory: "1Gi" }, undefined],
  ])("parseResources(%j)", (spec, expected) => expect(parseResources(spec)).toStrictEqual(expected));

  it.each([
    [1000, "1"],
    [41600, "41600m"],
    [250, "250m"],
  ])("cpuQuantity(%i) = %s", (m, q) => expect(cpuQuantity(m)).toBe(q));

  it.each([
    [GIB, "1Gi"],
    [1.5 * GIB, "1536Mi"],
    [16e9, "15258Mi"],
  ])("memoryQuantity(%i) = %s", (b, q) => expect(memoryQuantity(b)).toBe(q));
});
