/** The pack as a whole: one policy per file, complete metadata, and nothing constructed on import. */
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { isStackPolicy, POLICIES, POLICY_GROUPS } from "../../policies/policies.js";
import { configFor } from "../../runners/policy/check.js";

const POLICIES_DIR = fileURLToPath(new URL("../../policies/", import.meta.url));
const RULES = readdirSync(`${POLICIES_DIR}rules`).filter((f) => f.endsWith(".ts"));

describe("the pack", () => {
  it("has one file per policy under policies/rules/, named after it, each exporting only its policy", async () => {
    expect(RULES.map((f) => f.replace(/\.ts$/, "")).sort()).toStrictEqual(POLICIES.map((p) => p.name).sort());
    for (const file of RULES) {
      const mod = (await import(`${POLICIES_DIR}rules/${file}`)) as Record<string, unknown>;
      const policies = Object.values(mod).filter((v) => typeof v === "object" && v !== null && "name" in v);
      expect(
        policies.map((p) => (p as { name: string }).name),
        file,
      ).toStrictEqual([file.replace(/\.ts$/, "")]);
    }
  });

  it("covers the issue's groups with at least the policies it lists", () => {
    expect(
      Object.fromEntries(Object.entries(POLICY_GROUPS).map(([g, ps]) => [g, ps.map((p) => p.name)])),
    ).toStrictEqual({
      isolation: [
        "environment-default-deny",
        "environment-no-exposure",
        "host-access",
        "cross-namespace-binding",
      ],
      "workload hygiene": [
        "container-resources",
        "container-non-root",
        "container-read-only-root",
        "pinned-images",
        "workload-probes",
        "job-ttl",
      ],
      data: [
        "s3-encryption",
        "s3-public-access-block",
        "s3-tls-only",
        "s3-bundle-versioning",
        "s3-lifecycle-expiry",
        "s3-inbox-writers",
        "rds-encrypted-private",
        "no-plaintext-secrets",
      ],
      "cost and scale": ["tier-capacity", "tier-instance-types", "allowed-regions"],
      lifecycle: ["lifecycle-tags", "ephemeral-expiry"],
      cluster: ["eks-control-plane-logging", "eks-public-endpoint"],
    });
    expect(POLICY_GROUPS["cost and scale"]!.every(isStackPolicy)).toBe(true);
  });

  it.each(POLICIES.map((p) => [p.name, p] as const))(
    "%s has a name the engine accepts, a description and an explicit level",
    (name, p) => {
      expect(name).toMatch(/^[a-z][a-z0-9-]{2,63}$/);
      expect(name).not.toBe("all");
      expect(p.description.length).toBeGreaterThan(40);
      expect(p.description).toMatch(/\.$/);
      expect(p.enforcementLevel).toBe("mandatory");
    },
  );

  it.each(POLICIES.filter((p) => p.configSchema).map((p) => [p.name, p] as const))(
    "%s: a config schema the engine accepts, whose defaults are of the declared type",
    (_name, p) => {
      const props = p.configSchema!.properties;
      expect(Object.keys(props)).not.toContain("enforcementLevel");
      for (const [k, schema] of Object.entries(props)) {
        expect(schema.description, k).toBeDefined();
        const value = configFor(p)[k];
        if (schema.default === undefined) {
          expect(value).toBeUndefined();
          continue;
        }
        const type = Array.isArray(value) ? "array" : Number.isInteger(value) ? "integer" : typeof value;
        expect(type, k).toBe(schema.type);
      }
    },
  );

  it("is constructed in index.ts only: the PolicyPack constructor starts a server", () => {
    const constructing = [
      ...RULES.map((f) => `rules/${f}`),
      "policies.ts",
      "index.ts",
      ...readdirSync(`${POLICIES_DIR}lib`).map((f) => `lib/${f}`),
    ].filter((f) => readFileSync(`${POLICIES_DIR}${f}`, "utf8").includes("new PolicyPack("));
    expect(constructing).toStrictEqual(["index.ts"]);
  });

  it("is its own npm package that Pulumi loads through pack.cjs", () => {
    const pkg = JSON.parse(readFileSync(`${POLICIES_DIR}package.json`, "utf8")) as Record<string, unknown>;
    expect(pkg).toMatchObject({
      name: "@test-tiers/policies",
      main: "pack.cjs",
      type: "module",
      private: true,
    });
    expect(Object.keys(pkg.dependencies as object).sort()).toStrictEqual([
      "@pulumi/aws",
      "@pulumi/policy",
      "@pulumi/pulumi",
      "tsx",
    ]);
    const root = JSON.parse(readFileSync(`${POLICIES_DIR}../package.json`, "utf8")) as {
      workspaces: string[];
    };
    expect(root.workspaces).toStrictEqual(["policies"]);
    expect(parse(readFileSync(`${POLICIES_DIR}PulumiPolicy.yaml`, "utf8"))).toMatchObject({
      runtime: { name: "nodejs" },
    });
  });
});
