import { describe, expect, it } from "vitest";
import type { PolicyCheckReport } from "../../../runners/policy/run.js";
import { artifactUri, toSarif } from "../../../runners/policy/sarif.js";
import { SarifLogSchema } from "./sarif-rules.js";

const report: PolicyCheckReport = {
  pack: { name: "test-tiers", version: "0.1.0" },
  policies: [
    { name: "tier-capacity", description: "Caps. Per tier.", enforcementLevel: "mandatory", kind: "stack" },
    { name: "pinned-images", description: "Pinned.", enforcementLevel: "advisory", kind: "resource" },
  ],
  stacks: [
    {
      stack: "base",
      stackFile: "stacks/Pulumi.base.yaml",
      resources: 3,
      violations: [
        {
          policy: "pinned-images",
          description: "Pinned.",
          level: "advisory",
          urn: "urn:pulumi:base::p::t::a",
          type: "t",
          name: "a",
          message: "fix a",
        },
      ],
    },
    {
      stack: "mine",
      stackFile: "/tmp/Pulumi.mine.yaml",
      resources: 2,
      violations: [
        {
          policy: "tier-capacity",
          description: "Caps. Per tier.",
          level: "mandatory",
          urn: "urn:pulumi:mine::p::pulumi:pulumi:Stack::p-mine",
          type: "pulumi:pulumi:Stack",
          name: "p-mine",
          message: "too big",
        },
      ],
    },
  ],
};

describe("toSarif", () => {
  const log = toSarif(report);

  it("satisfies the SARIF and code-scanning rules the check relies on", () => {
    expect(SarifLogSchema.safeParse(log).error?.issues).toBeUndefined();
  });

  it("has one rule per policy and one result per violation, levels mapped (mandatory error, advisory warning)", () => {
    const run = log.runs[0]!;
    expect(
      run.tool.driver.rules.map((r) => [r.id, r.name, r.shortDescription.text, r.defaultConfiguration.level]),
    ).toStrictEqual([
      ["tier-capacity", "TierCapacity", "Caps.", "error"],
      ["pinned-images", "PinnedImages", "Pinned.", "warning"],
    ]);
    expect(
      run.results.map((r) => [
        r.ruleId,
        r.ruleIndex,
        r.level,
        r.message.text,
        r.locations[0]!.physicalLocation.artifactLocation.uri,
      ]),
    ).toStrictEqual([
      [
        "pinned-images",
        1,
        "warning",
        "fix a\nStack base, resource urn:pulumi:base::p::t::a",
        "stacks/Pulumi.base.yaml",
      ],
      [
        "tier-capacity",
        0,
        "error",
        "too big\nStack mine, resource urn:pulumi:mine::p::pulumi:pulumi:Stack::p-mine",
        "file:///tmp/Pulumi.mine.yaml",
      ],
    ]);
  });

  it("fingerprints a result by policy, resource and message, so a re-run matches it", () => {
    const again = toSarif(report).runs[0]!.results.map((r) => r.partialFingerprints);
    expect(again).toStrictEqual(log.runs[0]!.results.map((r) => r.partialFingerprints));
    expect(new Set(again.map((f) => f["testTiersPolicy/v1"])).size).toBe(2);
  });

  it("the schema refuses what code scanning refuses", () => {
    const bad = structuredClone(log) as unknown as {
      runs: { results: { ruleIndex: number; locations: unknown[] }[] }[];
    };
    bad.runs[0]!.results[0]!.ruleIndex = 0;
    bad.runs[0]!.results[1]!.locations = [];
    expect(SarifLogSchema.safeParse(bad).error?.issues.map((i) => i.message)).toStrictEqual([
      "Too small: expected array to have >=1 items",
      "result 0: ruleIndex 0 is not rule pinned-images",
    ]);
  });
});

describe("artifactUri", () => {
  it.each([
    ["stacks/Pulumi.base.yaml", "stacks/Pulumi.base.yaml"],
    ["test\\fixtures\\Pulumi.x.yaml", "test/fixtures/Pulumi.x.yaml"],
    ["/tmp/a b/Pulumi.x.yaml", "file:///tmp/a%20b/Pulumi.x.yaml"],
  ])("%s → %s", (file, uri) => {
    expect(artifactUri(file)).toBe(uri);
  });
});
