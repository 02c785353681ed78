/**
 * The stack `tiers run --ephemeral` makes, as the program and the policy pack see it: the runner
 * resolves the options (owner, expiry from --ttl, forceDestroy), the stack file it writes gets the
 * keys `pulumi config set-all` sets, and the program runs whole under the mock runtime. Its buckets
 * are force-destroyed, its clusters grant the configured principals access, and `ephemeral-expiry`
 * agrees with the expiry the runner set — and refuses one beyond the policy's lifetime.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseDocument } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveRunOptions } from "../../runners/cluster/run-options.js";
import { captureStack } from "../../runners/infra/capture.js";
import type { CapturedGraph } from "../../runners/infra/graph.js";
import { checkGraph, type GraphCheck } from "../../runners/policy/check.js";
import { REPO_ROOT } from "../helpers/cli.js";

const NOW = new Date("2026-12-02T09:30:20Z");
const PRINCIPALS = ["arn:aws:iam::123456789012:role/ci-deployer", "arn:aws:iam::123456789012:user/jane"];
let dir: string;
let graph: CapturedGraph;
let check: GraphCheck;
let stackName: string;

/** The ephemeral stack file as the runner writes it and `config set-all --path` completes it. */
async function ephemeralStackFile(
  ttl: string,
  extraConfig: Record<string, unknown> = {},
): Promise<{ name: string; file: string }> {
  const options = resolveRunOptions(
    "stress",
    { ephemeral: true, ttl },
    { TIERS_PROJECT_DIR: REPO_ROOT },
    NOW,
  );
  const doc = parseDocument(options.stackFileText!);
  for (const [k, v] of Object.entries(options.config)) {
    const [head, ...rest] = k.split(/\.(?=[^:]*$)/);
    doc.setIn(["config", head, ...rest], v === "true" ? true : v);
  }
  for (const [k, v] of Object.entries(extraConfig)) doc.setIn(["config", ...k.split("/")], v);
  const file = join(dir, `Pulumi.${options.stackName}.yaml`);
  await writeFile(file, doc.toString());
  return { name: options.stackName, file };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tiers-ephemeral-"));
  const made = await ephemeralStackFile("4h", { "test-tiers:cluster/accessPrincipals": PRINCIPALS });
  stackName = made.name;
  graph = await captureStack(made.name, { stackFile: made.file });
  check = await checkGraph(graph);
}, 180_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("the ephemeral stack tiers run makes (offline graph)", () => {
  it("is named from the tier and the minute, and carries the runner's expiry", () => {
    expect(stackName).toBe("stress-20261202-0930");
    expect(graph.error).toBeUndefined();
    const provider = graph.resources.find((r) => r.type === "pulumi:providers:aws")!;
    const tags = (JSON.parse(provider.inputs.defaultTags as string) as { tags: Record<string, string> }).tags;
    expect(tags).toMatchObject({
      "test-tiers:expires-at": "2026-12-02T13:30:00Z",
      "test-tiers:owner": "infra-team",
    });
  });

  it("force-destroys every bucket (every object version goes with it)", () => {
    const buckets = graph.resources.filter((r) => r.type === "aws:s3/bucket:Bucket");
    expect(buckets.length).toBeGreaterThan(0);
    for (const b of buckets) expect(b.inputs.forceDestroy).toBe(true);
  });

  it("grants each configured principal cluster-admin through an access entry", () => {
    const entries = graph.resources.filter((r) => r.type === "aws:eks/accessEntry:AccessEntry");
    const policies = graph.resources.filter(
      (r) => r.type === "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
    );
    expect(entries.map((e) => e.inputs.principalArn)).toStrictEqual(PRINCIPALS);
    expect(
      policies.map((p) => [p.inputs.principalArn, p.inputs.policyArn, p.inputs.accessScope]),
    ).toStrictEqual(
      PRINCIPALS.map((arn) => [
        arn,
        "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
        { type: "cluster" },
      ]),
    );
  });

  it("passes the policy pack, ephemeral-expiry included (it applied, and found the runner's expiry)", () => {
    expect(check.violations).toStrictEqual([]);
    expect(check.applied["ephemeral-expiry"]).toBe(1);
  });

  it("a long-lived stack keeps its bucket unless bundles.forceDestroy says otherwise", async () => {
    const stress = await captureStack("stress");
    for (const b of stress.resources.filter((r) => r.type === "aws:s3/bucket:Bucket"))
      expect(b.inputs.forceDestroy).toBe(false);
  });

  it("the runner refuses a TTL the policy would refuse, before anything starts", () => {
    expect(() =>
      resolveRunOptions("stress", { ephemeral: true, ttl: "30h" }, { TIERS_PROJECT_DIR: REPO_ROOT }, NOW),
    ).toThrow(
      'command line --ttl: longer than the 24 h an ephemeral stack may live (policy ephemeral-expiry) (got "30h", expected at most 24h)',
    );
  });
});
