import { readFileSync } from "node:fs";
import fc from "fast-check";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../tiers/config/issues.js";
import { parseYamlText } from "../../tiers/config/yaml-source.js";
import { environmentCapacity, sizeNodeGroup } from "../../tiers/infra/sizing.js";
import { loadCatalog } from "../../tiers/catalog.js";
import { hashPlan } from "../../tiers/plan/hash.js";
import { resolveStack } from "../../stacks/config/resolve.js";
import {
  cliConfigFromStackFile,
  displayPath,
  parseConfigValues,
  stackConfigSource,
  stackFilePath,
} from "../../stacks/config/source.js";
import { runTierProgram, StackConfigError } from "../../stacks/program.js";

/** The stack's config as the Pulumi CLI would hand it to the program. */
function sourceOf(stack: string) {
  const file = stackFilePath(stack);
  const { config } = cliConfigFromStackFile(
    (parse(readFileSync(file, "utf8")) as { config: Record<string, unknown> }).config,
  );
  return stackConfigSource(stack, config, file);
}

describe("config as the Pulumi CLI hands it over", () => {
  it("property: mappings, lists, numbers and booleans survive the CLI's string form", () => {
    const value = fc.oneof(
      fc.dictionary(fc.string(), fc.jsonValue()),
      fc.array(fc.jsonValue()),
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.boolean(),
      fc.stringMatching(/^[a-z][a-z0-9-]*$/),
    );
    fc.assert(
      fc.property(fc.dictionary(fc.stringMatching(/^test-tiers:[a-z]+$/), value), (config) => {
        const back = parseConfigValues(cliConfigFromStackFile(config).config);
        expect(back).toStrictEqual(JSON.parse(JSON.stringify(config)));
      }),
    );
  });

  it("passes encrypted values as secret keys it cannot read", () => {
    expect(
      cliConfigFromStackFile({ "test-tiers:x": { secure: "v1:abc" }, "test-tiers:tier": "base" }),
    ).toStrictEqual({
      config: { "test-tiers:x": "[encrypted in the stack file]", "test-tiers:tier": "base" },
      secretKeys: ["test-tiers:x"],
    });
  });

  it("names stack files relative to the project", () => {
    expect(displayPath(stackFilePath("stress"))).toBe("stacks/Pulumi.stress.yaml");
    expect(displayPath("/elsewhere/Pulumi.x.yaml")).toBe("/elsewhere/Pulumi.x.yaml");
  });

  it("reads positions from the stack file and values from the runtime", () => {
    const source = stackConfigSource("stress", { "test-tiers:tier": "chaos" });
    expect(source.data).toStrictEqual({ "test-tiers:tier": "chaos" });
    expect(source.positionOf(["test-tiers:tier"])).toStrictEqual({
      file: "stacks/Pulumi.stress.yaml",
      line: 5,
      col: 20,
    });
  });
});

describe("resolveStack", () => {
  it("gives each environment its share of the region: explicit resources as stated, the rest to the others", () => {
    const { args, plan } = resolveStack("stress", sourceOf("stress"));
    const cap = environmentCapacity(sizeNodeGroup(loadCatalog(), "stress"));
    const [one, two] = args.regions[0]!.environments;
    expect(two!.quota).toStrictEqual({ cpu_millis: 16_000, memory_bytes: 64 * 2 ** 30 });
    expect(one!.quota.cpu_millis).toBe(cap.cpu_millis - 16_000);
    expect(plan.environments.map((e) => e.resources)).toStrictEqual([one!.quota, two!.quota]);
    expect(plan.hash).toBe(hashPlan({ ...plan, hash: "" }));
  });

  it("hands every environment the tier's whole plan, one hash for all (the centre groups a cycle's bundles by it)", () => {
    const { args } = resolveStack("ultimate", sourceOf("ultimate"));
    const envs = args.regions.flatMap((r) => r.environments);
    const hashes = new Set<string>();
    for (const env of envs) {
      const plan = JSON.parse(env.planJson) as { hash: string; environments: { id: string }[] };
      expect(plan.environments.map((e) => e.id)).toContain(env.id);
      expect(plan.environments).toHaveLength(envs.length);
      expect(plan.hash).toBe(hashPlan({ ...plan, hash: "" } as never));
      hashes.add(plan.hash);
    }
    expect(hashes.size).toBe(1);
  });

  it("throws one ConfigError with every problem, and the program turns it into a RunError without creating anything", () => {
    const text =
      'config:\n  test-tiers:tier: base\n  test-tiers:sut: { replicas: 0 }\n  test-tiers:images: { sut: "x:latest" }\n';
    const { source } = parseYamlText(text, "stacks/Pulumi.t.yaml");
    const view = {
      ...source!,
      data: (source!.data as { config: unknown }).config,
      positionOf: (p: readonly PropertyKey[]) => source!.positionOf(["config", ...p]),
    };
    expect(() => resolveStack("t", view)).toThrow(ConfigError);
    try {
      runTierProgram("t", view);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(StackConfigError);
      expect(pulumi.RunError.isInstance(error)).toBe(true);
      const issues = (error as StackConfigError).cause.issues;
      expect(issues.map((i) => `${i.line}:${i.col} ${i.path}`)).toStrictEqual([
        "3:31 test-tiers:sut.replicas",
        "4:29 test-tiers:images.sut",
      ]);
    }
  });
});
