import { copyFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ExitCode } from "../../../tiers/errors.js";
import { cloudControlTarget, findOrphans } from "../../../runners/cluster/orphans.js";
import { decideStack } from "../../../runners/cluster/reap.js";
import { REPO_ROOT, runTiers } from "../../helpers/cli.js";
import { startPulumiStandIn, type PulumiStandIn } from "../../support/pulumi-stand-in.js";
import { tempDir } from "../../support/temp.js";

const NOW = new Date("2026-12-02T12:00:00Z");
const DAY = 86_400_000;
const stack = (name: string, expiresAt?: string, extra: Record<string, string> = {}) => ({
  name,
  updateInProgress: false,
  tags: { ...(expiresAt ? { "test-tiers:expires-at": expiresAt } : {}), ...extra },
});

describe("which stacks the reaper destroys", () => {
  it.each([
    [
      "an ephemeral stack past its expiry",
      stack("stress-20261202-0600", "2026-12-02T10:00:00Z"),
      "destroy",
      "expired at 2026-12-02T10:00:00Z",
    ],
    [
      "an ephemeral stack before its expiry",
      stack("stress-20261202-1000", "2026-12-02T14:00:00Z"),
      "keep",
      "expires at 2026-12-02T14:00:00Z",
    ],
    [
      "one with no expiry, past its name's time + 24 h",
      stack("base-20261130-0900"),
      "destroy",
      "expired at 2026-12-01T09:00:00Z (no expiry tag: its name's time + the longest lifetime)",
    ],
    [
      "one with no expiry, younger than that",
      stack("base-20261202-0900"),
      "keep",
      "expires at 2026-12-03T09:00:00.000Z",
    ],
    [
      "one tagged ephemeral under another name",
      stack("nightly", "2026-12-01T00:00:00Z", { "test-tiers:ephemeral": "true" }),
      "destroy",
      "expired at 2026-12-01T00:00:00Z",
    ],
  ] as const)("%s", (_what, s, action, reason) => {
    expect(decideStack(s, NOW, DAY)).toStrictEqual({ stack: s.name, action, reason });
  });

  it("never touches a long-lived stack, even one with an expiry, and skips one being updated", () => {
    expect(decideStack(stack("stress", "2020-01-01T00:00:00Z"), NOW, DAY)).toBeUndefined();
    expect(
      decideStack(
        { ...stack("chaos-20261201-0000", "2026-12-01T04:00:00Z"), updateInProgress: true },
        NOW,
        DAY,
      ),
    ).toStrictEqual({
      stack: "chaos-20261201-0000",
      action: "skip",
      reason: "expired at 2026-12-01T04:00:00Z, but an update is in progress",
    });
  });

  it("--older-than reaps by the name's time, whatever the expiry says", () => {
    expect(
      decideStack(stack("stress-20261202-0600", "2026-12-02T20:00:00Z"), NOW, DAY, 3 * 3_600_000)?.action,
    ).toBe("destroy");
    expect(
      decideStack(stack("stress-20261202-1000", "2026-12-02T20:00:00Z"), NOW, DAY, 3 * 3_600_000)?.action,
    ).toBe("keep");
  });
});

describe("orphaned AWS resources (tags only: the AWS calls are not exercised here)", () => {
  const tags = (stackName: string, expiresAt: string) => ({
    "test-tiers:stack": stackName,
    "test-tiers:expires-at": expiresAt,
  });
  it("finds the expired resources of stacks that no longer exist, dependents first", () => {
    const resources = [
      {
        arn: "arn:aws:ec2:us-east-1:123456789012:vpc/vpc-0abc",
        tags: tags("stress-20261201-0900", "2026-12-01T13:00:00Z"),
      },
      {
        arn: "arn:aws:eks:us-east-1:123456789012:cluster/tiers-stress-20261201-0900-us-east-1",
        tags: tags("stress-20261201-0900", "2026-12-01T13:00:00Z"),
      },
      {
        arn: "arn:aws:eks:us-east-1:123456789012:nodegroup/tiers-c/ng-1/0ab1",
        tags: tags("stress-20261201-0900", "2026-12-01T13:00:00Z"),
      },
      {
        arn: "arn:aws:s3:::tiers-stress-us-east-1-bundles-1a2b",
        tags: tags("stress-20261201-0900", "2026-12-01T13:00:00Z"),
      },
      {
        arn: "arn:aws:ec2:us-east-1:123456789012:elastic-ip/eipalloc-1",
        tags: tags("stress-20261201-0900", "2026-12-01T13:00:00Z"),
      },
      // Its stack still exists: the stack reaper's business.
      {
        arn: "arn:aws:ec2:us-east-1:123456789012:vpc/vpc-live",
        tags: tags("base-20261202-0800", "2026-12-02T11:00:00Z"),
      },
      // Not expired yet.
      {
        arn: "arn:aws:ec2:us-east-1:123456789012:vpc/vpc-young",
        tags: tags("chaos-20261202-1100", "2026-12-02T15:00:00Z"),
      },
    ];
    const found = findOrphans(resources, new Set(["base-20261202-0800"]), NOW);
    expect(
      found.map((o) => [
        o.arn.split(":").slice(2, 3)[0],
        o.target?.typeName ?? null,
        o.target?.identifier ?? null,
      ]),
    ).toStrictEqual([
      ["eks", "AWS::EKS::Nodegroup", "tiers-c|ng-1"],
      ["eks", "AWS::EKS::Cluster", "tiers-stress-20261201-0900-us-east-1"],
      ["s3", "AWS::S3::Bucket", "tiers-stress-us-east-1-bundles-1a2b"],
      ["ec2", "AWS::EC2::VPC", "vpc-0abc"],
      ["ec2", null, null],
    ]);
  });

  it.each([
    [
      "arn:aws:logs:us-east-1:1:log-group:/aws/eks/tiers-x/cluster:*",
      "AWS::Logs::LogGroup",
      "/aws/eks/tiers-x/cluster",
    ],
    ["arn:aws:iam::1:role/tiers-env-1-writer-abc", "AWS::IAM::Role", "tiers-env-1-writer-abc"],
    ["arn:aws:kms:us-east-1:1:key/1234abcd", "AWS::KMS::Key", "1234abcd"],
    ["arn:aws:ec2:eu-west-1:1:natgateway/nat-0f", "AWS::EC2::NatGateway", "nat-0f"],
    ["arn:aws:eks:us-east-1:1:addon/tiers-x/vpc-cni/9a", "AWS::EKS::Addon", "tiers-x|vpc-cni"],
  ])("%s → %s %s", (arn, typeName, identifier) => {
    expect(cloudControlTarget(arn)).toMatchObject({ typeName, identifier });
  });
});

describe("tiers reap (Automation API against the recording pulumi stand-in)", () => {
  let pulumi: PulumiStandIn | undefined;
  let dir: { path: string; remove: () => Promise<void> } | undefined;
  afterEach(async () => {
    await pulumi?.close();
    await dir?.remove();
  });

  it("destroys and removes two expired stacks, keeps the live one, ignores a long-lived one", async () => {
    const existing = (expiresAt: string | undefined, resourceCount = 40) => ({
      tags: (expiresAt
        ? { "test-tiers:ephemeral": "true", "test-tiers:expires-at": expiresAt }
        : {}) as Record<string, string>,
      resourceCount,
      lastUpdate: "2026-01-01T00:00:00Z",
    });
    const soon = new Date(Date.now() + 3_600_000).toISOString().slice(0, 19) + "Z";
    pulumi = await startPulumiStandIn({
      stacks: {
        "stress-20260101-0900": existing("2026-01-01T13:00:00Z"),
        stress: existing(undefined, 120),
        "base-20260102-0800": existing("2026-01-02T12:00:00Z"),
        [`chaos-${soon.slice(0, 10).replace(/-/g, "")}-${soon.slice(11, 13)}00`]: existing(soon),
      },
    });
    dir = await tempDir("tiers-reap-");
    await mkdir(join(dir.path, "stacks"));
    await copyFile(join(REPO_ROOT, "Pulumi.yaml"), join(dir.path, "Pulumi.yaml"));
    const run = await runTiers(["reap", "--stacks-only", "--project-dir", dir.path], {
      ...pulumi.env,
      TIERS_DESTROY_BACKOFF_MS: "50",
    });
    expect(run.code, run.stdout + run.stderr).toBe(ExitCode.Ok);
    const live = Object.keys(await pulumi.stacks());
    expect(live.sort()).toStrictEqual([expect.stringMatching(/^chaos-/), "stress"]);
    const chaos = live.find((s) => s.startsWith("chaos-"))!;
    const cmds = (await pulumi.calls()).map((a) => a.filter((x) => x !== "--non-interactive").join(" "));
    const reaped = (s: string) => [
      `stack select --stack ${s}`,
      `destroy --yes --skip-preview --exec-kind auto.local --stack ${s}`,
      `stack history --json --show-secrets --page-size 1 --page 1 --stack ${s}`,
      `stack rm --yes ${s}`,
    ];
    expect(cmds).toStrictEqual([
      "version",
      "stack ls --json",
      "stack tag ls --json --stack stress-20260101-0900",
      "stack tag ls --json --stack stress",
      "stack tag ls --json --stack base-20260102-0800",
      `stack tag ls --json --stack ${chaos}`,
      ...reaped("stress-20260101-0900"),
      ...reaped("base-20260102-0800"),
    ]);
    expect(run.stdout).toContain("destroy stress-20260101-0900: expired at 2026-01-01T13:00:00Z");
    expect(run.stdout).toContain(`keep    ${chaos}: expires at ${soon}`);
  });

  it("--dry-run destroys nothing", async () => {
    pulumi = await startPulumiStandIn({
      stacks: {
        "stress-20260101-0900": {
          tags: { "test-tiers:expires-at": "2026-01-01T13:00:00Z" },
          resourceCount: 3,
          lastUpdate: null,
        },
      },
    });
    const run = await runTiers(["reap", "--dry-run", "--stacks-only"], pulumi.env);
    expect(run.code, run.stderr).toBe(ExitCode.Ok);
    expect(run.stdout).toContain("would destroy stress-20260101-0900: expired at 2026-01-01T13:00:00Z");
    expect((await pulumi.calls()).map((a) => a[0])).toStrictEqual(["version", "stack", "stack"]);
  });
});
