/** Cost and scale: the tier catalog's caps, instance types per tier, regions. */
import { describe, expect, it } from "vitest";
import { allowedInstanceTypes, tierCap } from "../../../policies/lib/capacity.js";
import { allowedRegions } from "../../../policies/rules/allowed-regions.js";
import { tierCapacity } from "../../../policies/rules/tier-capacity.js";
import { tierInstanceTypes } from "../../../policies/rules/tier-instance-types.js";
import { loadCatalog } from "../../../tiers/catalog.js";
import { eligibleInstanceTypes, instanceTypeByName } from "../../../tiers/infra/instance-types.js";
import { TIER_NAMES, type TierName } from "../../../tiers/schema/names.js";
import { awsProvider, fake, using, validateStack, type FakeResource } from "../fake-args.js";

const catalog = loadCatalog();
const NODE_GROUP = "aws:eks/nodeGroup:NodeGroup";

const tags = (tier: string) => ({
  "test-tiers:tier": tier,
  "test-tiers:environment": "shared",
  "test-tiers:owner": "infra-team",
});
const provider = (tier: string, region = "us-east-1") => awsProvider(`aws-${region}`, region, tags(tier));

function nodeGroup(
  name: string,
  tier: string,
  types: string[],
  maxSize: number,
  region = "us-east-1",
): FakeResource {
  return using(
    fake(NODE_GROUP, name, { instanceTypes: types, scalingConfig: { minSize: 1, desiredSize: 1, maxSize } }),
    provider(tier, region),
  );
}

describe("the caps, from the catalog as the cluster component sizes node groups", () => {
  it.each(TIER_NAMES)(
    "%s: regions × the heaviest phase's scaling-matrix instances × the smallest fitting type",
    (tier) => {
      const spec = catalog.tiers[tier];
      const heaviest = spec.phases.filter((p) => catalog.phases[p].scaling !== null).at(-1)!;
      const maxNodes = Math.max(spec.compute.instances, catalog.phases[heaviest].scaling!.instances);
      const type = eligibleInstanceTypes({
        cpuCores: spec.compute.cpu_cores,
        memoryGb: spec.compute.memory_gb,
      })[0]!;
      expect(tierCap(catalog, tier)).toStrictEqual({
        tier,
        regions: spec.regions,
        maxNodes,
        instanceType: type,
        vcpu: spec.regions * maxNodes * type.vcpu,
        memoryGiB: spec.regions * maxNodes * type.memoryGiB,
      });
    },
  );

  it("gives the figures docs/architecture.md states", () => {
    const figures = Object.fromEntries(
      TIER_NAMES.map((t) => {
        const c = tierCap(catalog, t);
        return [
          t,
          `${c.regions} × ${c.maxNodes} × ${c.instanceType.name} = ${c.vcpu} vCPU, ${c.memoryGiB} GiB`,
        ];
      }),
    );
    expect(figures).toStrictEqual({
      base: "1 × 10 × m6i.xlarge = 40 vCPU, 160 GiB",
      stress: "1 × 40 × m6i.2xlarge = 320 vCPU, 1280 GiB",
      chaos: "1 × 80 × m6i.4xlarge = 1280 vCPU, 5120 GiB",
      ultimate: "3 × 80 × m6i.8xlarge = 7680 vCPU, 30720 GiB",
    });
  });

  it.each(TIER_NAMES)("allows %s the chosen type and the larger-memory type of its size", (tier) => {
    const allowed = allowedInstanceTypes(catalog, tier);
    expect(allowed).toContain(tierCap(catalog, tier).instanceType.name);
    const sizes = new Set(allowed.map((n) => instanceTypeByName(n)!.vcpu));
    expect([...sizes]).toStrictEqual([catalog.tiers[tier].compute.cpu_cores]);
    expect(allowed.map((n) => n.split(".")[0]).sort()).toStrictEqual(["m6i", "r6i"]);
  });
});

describe("tier-capacity", () => {
  const cap = (tier: TierName) => tierCap(catalog, tier);

  it.each(TIER_NAMES)("passes %s exactly at its cap, one node group per region", async (tier) => {
    const c = cap(tier);
    const regions = ["us-east-1", "eu-west-1", "ap-southeast-1"].slice(0, c.regions);
    const groups = regions.map((r) => nodeGroup(`${r}-nodes`, tier, [c.instanceType.name], c.maxNodes, r));
    expect(await validateStack(tierCapacity, groups)).toStrictEqual({ violations: [] });
  });

  it("reports a tier over its cap once, for the stack, naming every node group", async () => {
    const groups = [
      nodeGroup("a", "base", ["m6i.xlarge"], 8),
      nodeGroup("b", "base", ["m6i.xlarge", "r6i.xlarge"], 3),
    ];
    expect(await validateStack(tierCapacity, groups)).toStrictEqual({
      violations: [
        {
          message:
            "tier base reaches 44 vCPU and 224 GiB at its ceiling (node group a: 8 × m6i.xlarge, node group b: 3 × m6i.xlarge/r6i.xlarge), over the catalog's cap of 40 vCPU and 160 GiB (1 × 10 × m6i.xlarge); lower maxSize or the instance type",
        },
      ],
    });
  });

  it("holds memory to the cap too: r6i at the node count of m6i doubles it", async () => {
    const o = await validateStack(tierCapacity, [nodeGroup("a", "stress", ["r6i.2xlarge"], 40)]);
    expect(o.violations.map((v) => v.message)).toStrictEqual([
      "tier stress reaches 320 vCPU and 2,560 GiB at its ceiling (node group a: 40 × r6i.2xlarge), over the catalog's cap of 320 vCPU and 1,280 GiB (1 × 40 × m6i.2xlarge); lower maxSize or the instance type",
    ]);
  });

  it("counts EC2 instances of the tier", async () => {
    const instance = using(
      fake("aws:ec2/instance:Instance", "bastion", { instanceType: "m6i.xlarge" }),
      provider("base"),
    );
    const o = await validateStack(tierCapacity, [nodeGroup("a", "base", ["m6i.xlarge"], 10), instance]);
    expect(o.violations.map((v) => v.message)).toStrictEqual([
      "tier base reaches 44 vCPU and 176 GiB at its ceiling (node group a: 10 × m6i.xlarge, instance bastion: 1 × m6i.xlarge), over the catalog's cap of 40 vCPU and 160 GiB (1 × 10 × m6i.xlarge); lower maxSize or the instance type",
    ]);
  });

  it.each<[string, FakeResource, string]>([
    [
      "no tier tag",
      fake(NODE_GROUP, "x", { instanceTypes: ["m6i.xlarge"], scalingConfig: { maxSize: 3 } }),
      "node group x carries no known test-tiers:tier tag (got null), so no tier's cap applies; tag it with its tier",
    ],
    [
      "an unknown type",
      nodeGroup("x", "base", ["m7g.xlarge"], 3),
      "node group x runs instance type m7g.xlarge, which is not in tiers/infra/instance-types.ts, so its size is unknown; use a type of the table",
    ],
    [
      "no type",
      nodeGroup("x", "base", [], 3),
      "node group x runs no stated instance type, so its size is unknown; use a type of the table",
    ],
  ])("reports a node group with %s on the node group", async (_name, r, message) => {
    expect(await validateStack(tierCapacity, [r])).toStrictEqual({ violations: [{ message, urn: r.urn }] });
  });

  it("is not applicable without compute (kubeconfig mode)", async () => {
    expect(await validateStack(tierCapacity, [])).toStrictEqual({
      violations: [],
      notApplicable: "the stack has no node group or instance",
    });
  });
});

describe("tier-instance-types", () => {
  it("passes the allowed types", async () => {
    expect(
      await validateStack(tierInstanceTypes, [nodeGroup("a", "base", ["m6i.xlarge", "r6i.xlarge"], 3)]),
    ).toStrictEqual({ violations: [] });
  });

  it.each<[string, string[], string]>([
    [
      "a smaller-memory family",
      ["c6i.xlarge"],
      "node group a of tier base uses c6i.xlarge, not allowed for the tier; use m6i.xlarge or r6i.xlarge",
    ],
    [
      "a larger size",
      ["m6i.xlarge", "m6i.4xlarge"],
      "node group a of tier base uses m6i.4xlarge, not allowed for the tier; use m6i.xlarge or r6i.xlarge",
    ],
  ])("reports %s", async (_name, types, message) => {
    const r = nodeGroup("a", "base", types, 3);
    expect(await validateStack(tierInstanceTypes, [r])).toStrictEqual({
      violations: [{ message, urn: r.urn }],
    });
  });

  it("takes the allow-list from its config", async () => {
    const config = { "tier-instance-types": { allowedInstanceTypes: { base: ["c6i.xlarge"] } } };
    const r = nodeGroup("a", "base", ["m6i.xlarge"], 3);
    expect(
      (await validateStack(tierInstanceTypes, [r], { config })).violations.map((v) => v.message),
    ).toStrictEqual(["node group a of tier base uses m6i.xlarge, not allowed for the tier; use c6i.xlarge"]);
  });
});

describe("allowed-regions", () => {
  it("passes the topology's regions", async () => {
    const providers = ["us-east-1", "eu-west-1", "ap-southeast-1"].map((r) => provider("ultimate", r));
    expect(await validateStack(allowedRegions, providers)).toStrictEqual({ violations: [] });
  });

  it.each<[string, FakeResource, string]>([
    [
      "another region",
      provider("base", "us-west-2"),
      "AWS provider aws-us-west-2 is for us-west-2, which is not an allowed region; use one of us-east-1, eu-west-1, ap-southeast-1 or extend allowedRegions in the policy config",
    ],
    [
      "no region (taken from the environment)",
      awsProvider("default_7_0_0", undefined, {}),
      "AWS provider default_7_0_0 states no region (it would take one from the environment); set region to one of us-east-1, eu-west-1, ap-southeast-1",
    ],
  ])("reports a provider for %s, on the provider", async (_name, p, message) => {
    expect(await validateStack(allowedRegions, [p])).toStrictEqual({ violations: [{ message, urn: p.urn }] });
  });

  it("takes the allow-list from its config", async () => {
    const config = { "allowed-regions": { allowedRegions: ["us-west-2"] } };
    expect(await validateStack(allowedRegions, [provider("base", "us-west-2")], { config })).toStrictEqual({
      violations: [],
    });
  });
});
