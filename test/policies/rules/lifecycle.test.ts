/** Lifecycle: required tags on taggable AWS resources, expiry of ephemeral stacks. */
import { describe, expect, it } from "vitest";
import { taggableAwsTypes } from "../../../policies/lib/aws.js";
import { ephemeralExpiry } from "../../../policies/rules/ephemeral-expiry.js";
import { lifecycleTags } from "../../../policies/rules/lifecycle-tags.js";
import {
  awsProvider,
  fake,
  messages,
  using,
  validateResource,
  validateStack,
  type FakeResource,
} from "../fake-args.js";

const TAGS = {
  "test-tiers:tier": "base",
  "test-tiers:environment": "shared",
  "test-tiers:owner": "infra-team",
};

describe("taggable AWS types, read from the installed @pulumi/aws", () => {
  it.each([
    ["aws:s3/bucket:Bucket", true],
    ["aws:eks/nodeGroup:NodeGroup", true],
    ["aws:iam/role:Role", true],
    ["aws:kms/key:Key", true],
    ["aws:iam/rolePolicy:RolePolicy", false],
    ["aws:s3/bucketPolicy:BucketPolicy", false],
    ["aws:ec2/routeTableAssociation:RouteTableAssociation", false],
  ])("%s: %s", (type, taggable) => {
    expect(taggableAwsTypes().has(type)).toBe(taggable);
  });

  it("finds hundreds of them", () => {
    expect(taggableAwsTypes().size).toBeGreaterThan(500);
  });
});

describe("lifecycle-tags", () => {
  it("passes a provider whose defaultTags carry tier, environment and owner, and a resource inheriting them", async () => {
    const p = awsProvider("aws-us-east-1", "us-east-1", {
      ...TAGS,
      "test-tiers:expires-at": "2026-05-01T13:30:00Z",
    });
    expect(await messages(validateResource(lifecycleTags, p))).toStrictEqual([]);
    const bucket = using(fake("aws:s3/bucket:Bucket", "b", {}), p);
    expect(await messages(validateResource(lifecycleTags, bucket))).toStrictEqual([]);
    const writer = using(
      fake("aws:iam/role:Role", "env-1-writer", { tags: { "test-tiers:environment": "env-1" } }),
      p,
    );
    expect(await messages(validateResource(lifecycleTags, writer))).toStrictEqual([]);
  });

  it.each<[string, Record<string, string>, string]>([
    [
      "no owner",
      { "test-tiers:tier": "base", "test-tiers:environment": "shared" },
      "AWS provider aws-us-east-1: its defaultTags lack test-tiers:owner; set test-tiers:owner in the stack config (TestTier puts it into every region provider's defaultTags)",
    ],
    [
      "no tags at all",
      {},
      'AWS provider aws-us-east-1: its defaultTags lack test-tiers:tier, test-tiers:environment and test-tiers:owner; give the provider defaultTags with valid test-tiers:tier, test-tiers:environment and test-tiers:owner (TestTier does: tier, environment "shared", the owner from the stack config)',
    ],
    [
      "malformed values",
      {
        ...TAGS,
        "test-tiers:tier": "mega",
        "test-tiers:environment": "Env 1",
        "test-tiers:expires-at": "tomorrow",
      },
      'AWS provider aws-us-east-1: its defaultTags test-tiers:tier "mega" is neither a tier nor central; test-tiers:environment "Env 1" is neither shared nor an environment id; test-tiers:expires-at "tomorrow" is not an ISO 8601 UTC time; give the provider defaultTags with valid test-tiers:tier, test-tiers:environment and test-tiers:owner (TestTier does: tier, environment "shared", the owner from the stack config)',
    ],
  ])(
    "reports a provider with %s once, on the provider (not on every resource using it)",
    async (_name, tags, message) => {
      const p = awsProvider("aws-us-east-1", "us-east-1", tags);
      expect(await messages(validateResource(lifecycleTags, p))).toStrictEqual([message]);
      const bucket = using(fake("aws:s3/bucket:Bucket", "b", {}), p);
      expect(await messages(validateResource(lifecycleTags, bucket))).toStrictEqual([]);
    },
  );

  it("reports a resource whose own tags override the provider's with a bad value", async () => {
    const p = awsProvider("aws-us-east-1", "us-east-1", TAGS);
    const r = using(
      fake("aws:iam/role:Role", "w", { tags: { "test-tiers:environment": "", "test-tiers:owner": "-x" } }),
      p,
    );
    expect(await messages(validateResource(lifecycleTags, r))).toStrictEqual([
      'w: its tags test-tiers:environment "" is neither shared nor an environment id; test-tiers:owner "-x" is not an owner; fix the resource\'s tags or leave the key to the provider\'s defaultTags',
    ]);
  });

  it("asks a resource with no provider in view for every tag itself", async () => {
    const r = fake("aws:s3/bucket:Bucket", "b", { tags: { "test-tiers:tier": "base" } });
    expect(await messages(validateResource(lifecycleTags, r))).toStrictEqual([
      "b: its tags lack test-tiers:environment and test-tiers:owner; fix the resource's tags or leave the key to the provider's defaultTags",
    ]);
  });

  it.each([
    ["aws:iam/rolePolicy:RolePolicy", "not a taggable AWS resource"],
    ["kubernetes:core/v1:Namespace", "not a taggable AWS resource"],
  ])("does not apply to %s", async (type, reason) => {
    expect(await validateResource(lifecycleTags, fake(type, "x", {}))).toStrictEqual({
      violations: [],
      notApplicable: reason,
    });
  });
});

describe("ephemeral-expiry", () => {
  const STACK = "stress-20260501-0930";
  const provider = (expiry?: string, stack = STACK): FakeResource =>
    awsProvider(
      `${stack}-aws-us-east-1`,
      "us-east-1",
      { ...TAGS, ...(expiry ? { "test-tiers:expires-at": expiry } : {}) },
      stack,
    );
  const namespace = (expiry?: string, stack = STACK): FakeResource =>
    fake(
      "kubernetes:core/v1:Namespace",
      "env-1-ns",
      {
        metadata: {
          name: "tiers-env-1",
          labels: { "test-tiers/environment": "env-1" },
          annotations: expiry ? { "test-tiers/expires-at": expiry } : {},
        },
      },
      { stack },
    );

  it("passes an ephemeral stack that expires within a day, on every carrier", async () => {
    expect(
      await validateStack(ephemeralExpiry, [
        provider("2026-05-01T13:30:00Z"),
        namespace("2026-05-01T13:30:00Z"),
      ]),
    ).toStrictEqual({
      violations: [],
    });
  });

  it("reports a stack without any expiry once, for the stack", async () => {
    expect(await validateStack(ephemeralExpiry, [provider(), namespace()])).toStrictEqual({
      violations: [
        {
          message:
            "ephemeral stack stress-20260501-0930 has no expiry; set test-tiers:expiresAt in the stack config",
        },
      ],
    });
  });

  it.each<[string, FakeResource[], { message: string; urn: string }[]]>([
    [
      "an expiry before the stack was created, and a carrier without one",
      [provider("2026-05-01T09:00:00Z"), namespace()],
      [
        {
          message:
            "ephemeral stack stress-20260501-0930: AWS provider stress-20260501-0930-aws-us-east-1 expires at 2026-05-01T09:00:00Z, not after the stack's creation (2026-05-01T09:30Z); set test-tiers:expiresAt in the stack config",
          urn: provider().urn,
        },
        {
          message:
            "ephemeral stack stress-20260501-0930: namespace tiers-env-1 has no expiry; set test-tiers:expiresAt in the stack config",
          urn: namespace().urn,
        },
      ],
    ],
    [
      "an expiry beyond the allowed lifetime",
      [namespace("2026-05-03T09:30:00Z")],
      [
        {
          message:
            "ephemeral stack stress-20260501-0930: namespace tiers-env-1 expires at 2026-05-03T09:30:00Z, more than 24 h after the stack's creation (2026-05-01T09:30Z); set test-tiers:expiresAt in the stack config",
          urn: namespace().urn,
        },
      ],
    ],
    [
      "an expiry that is not a time",
      [namespace("next week")],
      [
        {
          message:
            'ephemeral stack stress-20260501-0930: namespace tiers-env-1 has expiry "next week", which is not an ISO 8601 UTC time; set test-tiers:expiresAt in the stack config',
          urn: namespace().urn,
        },
      ],
    ],
  ])("reports %s on the carrier", async (_name, resources, violations) => {
    expect(await validateStack(ephemeralExpiry, resources)).toStrictEqual({ violations });
  });

  it("takes the longest lifetime from its config", async () => {
    const config = { "ephemeral-expiry": { maxLifetimeHours: 72 } };
    expect(
      await validateStack(ephemeralExpiry, [namespace("2026-05-03T09:30:00Z")], { config }),
    ).toStrictEqual({ violations: [] });
  });

  it("does not apply to a long-lived stack", async () => {
    expect(
      await validateStack(ephemeralExpiry, [provider(undefined, "stress"), namespace(undefined, "stress")]),
    ).toStrictEqual({
      violations: [],
      notApplicable: "stress is not an ephemeral stack",
    });
  });
});
