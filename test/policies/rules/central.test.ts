/** s3-inbox-writers: the central inbox lets each environment put under its own prefix only. */
import { describe, expect, it } from "vitest";
import { inboxBucketPolicy } from "../../../components/central/central-policies.js";
import { inboxPolicyProblems, s3InboxWriters } from "../../../policies/rules/s3-inbox-writers.js";
import { fake, validateStack } from "../fake-args.js";

const ARN = "arn:aws:s3:::tiers-central-inbox-abc";
const W1 = "arn:aws:iam::123456789012:role/w1";
const PARENTS = ["tiers:central:CentralAnalysis"];

function inboxWith(policy: string | null) {
  const bucket = fake(
    "aws:s3/bucket:Bucket",
    "central-inbox",
    { bucketPrefix: "tiers-central-inbox-" },
    { parents: PARENTS },
  );
  if (policy === null) return [bucket];
  const p = fake(
    "aws:s3/bucketPolicy:BucketPolicy",
    "central-inbox",
    { bucket: "id", policy },
    { parents: PARENTS, propertyDependencies: { bucket: [bucket.urn] }, dependencies: [bucket.urn] },
  );
  return [bucket, p];
}

const statement = (s: Record<string, unknown>) => JSON.stringify({ Version: "2012-10-17", Statement: [s] });

describe("s3-inbox-writers", () => {
  it("passes the policy the component writes", async () => {
    const policy = inboxBucketPolicy(ARN, [{ environment: "stress-1", principal: W1 }]);
    expect(await validateStack(s3InboxWriters, inboxWith(policy))).toStrictEqual({ violations: [] });
  });

  it("is not applicable without a central inbox", async () => {
    const o = await validateStack(s3InboxWriters, [fake("aws:s3/bucket:Bucket", "us-east-1-bundles", {})]);
    expect(o.notApplicable).toBe("the stack has no central inbox bucket");
  });

  it("reports an inbox without a policy", async () => {
    const o = await validateStack(s3InboxWriters, inboxWith(null));
    expect(o.violations.map((v) => v.message)).toStrictEqual([
      "inbox bucket tiers-central-inbox-… (central-inbox) has no bucket policy; add one that lets each environment put under inbox/<env>/ only",
    ]);
  });

  it.each<[string, string, string[]]>([
    [
      "everyone may put anywhere",
      statement({
        Sid: "Open",
        Effect: "Allow",
        Principal: "*",
        Action: "s3:PutObject",
        Resource: `${ARN}/*`,
      }),
      [
        "statement Open lets every principal put objects",
        `statement Open allows puts on ${ARN}/*, not one environment's inbox/<env>/* prefix`,
        "it lets no environment put bundles (no writer under inbox/<env>/)",
      ],
    ],
    [
      "a writer with s3:* on its prefix and no deny elsewhere",
      statement({
        Sid: "Wide",
        Effect: "Allow",
        Principal: { AWS: W1 },
        Action: "s3:*",
        Resource: `${ARN}/inbox/stress-1/*`,
      }),
      [
        "statement Wide grants s3:*, more than s3:PutObject",
        `${W1} is not denied puts outside ${ARN}/inbox/stress-1/* (add a Deny of s3:PutObject with NotResource ${ARN}/inbox/stress-1/*, so a broader grant on the role cannot widen it)`,
      ],
    ],
    ["not JSON", "{", ["its policy is not JSON"]],
  ])("%s", async (_name, policy, problems) => {
    expect(inboxPolicyProblems(policy)).toStrictEqual(problems);
    const o = await validateStack(s3InboxWriters, inboxWith(policy));
    expect(o.violations.map((v) => v.message)).toStrictEqual([
      `inbox bucket tiers-central-inbox-… (central-inbox): ${problems.join("; ")}`,
    ]);
  });
});
