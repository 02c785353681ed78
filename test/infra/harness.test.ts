/** The offline harness itself: strict invokes, what it records, config overrides, the adopted-VPC path. */
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { captureStack } from "../../runners/infra/capture.js";
import { get, type CapturedGraph } from "../../runners/infra/graph.js";
import { planFromSources } from "../../tiers/plan/compile.js";
import { GraphView } from "./graph-view.js";

const fixture = (name: string): string =>
  fileURLToPath(new URL(`../fixtures/infra/${name}`, import.meta.url));

let unmocked: CapturedGraph;
let adopted: GraphView;
let five: GraphView;

beforeAll(async () => {
  [unmocked, adopted, five] = await Promise.all([
    captureStack("base", { program: fixture("unmocked-invoke.ts") }),
    captureStack("base", {
      overrides: { "test-tiers:network": { existingVpcs: { "us-east-1": "vpc-0123456789abcdef0" } } },
    }).then((g) => new GraphView(g)),
    captureStack("ultimate", { overrides: { "test-tiers:environments": 5 } }).then((g) => new GraphView(g)),
  ]);
}, 120_000);

describe("strict mocks", () => {
  it("fail the program on an invoke the harness does not know, naming it", () => {
    expect(unmocked.ok).toBe(false);
    expect(unmocked.error?.message).toContain("unmocked invoke aws:ec2/getAmi:getAmi");
    expect(unmocked.invokes.map((i) => i.token)).toStrictEqual(["aws:ec2/getAmi:getAmi"]);
  });
});

describe("what a capture records", () => {
  it("gives every resource a unique URN, a parent in the graph (or the root) and its type and name in the URN", () => {
    const g = five.graph;
    const urns = new Set(g.resources.map((r) => r.urn));
    expect(urns.size).toBe(g.resources.length);
    for (const r of g.resources) {
      expect(r.parent === g.root || urns.has(r.parent!), r.urn).toBe(true);
      expect(r.urn.endsWith(`${r.type}::${r.name}`), r.urn).toBe(true);
    }
  });

  it("records dependencies: a node group waits for the VPC CNI add-on and its role's policies", () => {
    const ng = five.ofType("aws:eks/nodeGroup:NodeGroup")[0]!;
    const deps = ng.dependencies.map((d) => five.byUrn.get(d)?.type);
    expect(deps).toContain("aws:eks/addon:Addon");
    expect(deps).toContain("aws:iam/rolePolicyAttachment:RolePolicyAttachment");
  });
});

describe("config overrides", () => {
  it("place generated environments exactly where `tiers plan` places them", () => {
    const plan = planFromSources({ cli: { tier: "ultimate", environments: "5" } });
    const outputs = five.graph.outputs as { environments: Record<string, { region: string; role: string }> };
    expect(Object.entries(outputs.environments).map(([id, e]) => [id, e.region, e.role])).toStrictEqual(
      plan.environments.map((e) => [e.id, e.region, e.role]),
    );
    expect(five.ofType("tiers:environment:IsolatedEnvironment")).toHaveLength(5);
    expect(five.ofType("aws:iam/role:Role").filter((r) => r.name.endsWith("-writer"))).toHaveLength(5);
  });
});

describe("an adopted VPC", () => {
  it("is read through invokes with the region's provider, and nothing of the network is created", () => {
    expect(adopted.graph.ok).toBe(true);
    expect(adopted.ofType("tiers:network:RegionNetwork")).toHaveLength(1);
    expect(adopted.resources.filter((r) => r.type.startsWith("aws:ec2/"))).toStrictEqual(
      adopted.resources.filter((r) => r.type === "aws:ec2/launchTemplate:LaunchTemplate"),
    );
    const provider = adopted.ofType("pulumi:providers:aws")[0]!;
    expect(adopted.graph.invokes.map((i) => [i.token, i.provider]).sort()).toStrictEqual([
      ["aws:ec2/getSubnets:getSubnets", provider.urn],
      ["aws:ec2/getVpc:getVpc", provider.urn],
    ]);
    const cluster = adopted.ofType("aws:eks/cluster:Cluster")[0]!;
    expect(get(cluster.inputs, "vpcConfig.subnetIds")).toStrictEqual([
      "subnet-0aaa0000000000001",
      "subnet-0aaa0000000000002",
      "subnet-0aaa0000000000003",
    ]);
    const upload = adopted.resources.find((r) => r.name.endsWith("-allow-bundle-upload"))!;
    expect(get(upload.inputs, "spec.egress.0.to.0.ipBlock")).toStrictEqual({
      cidr: "0.0.0.0/0",
      except: ["10.99.0.0/16"],
    });
  });
});
