import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  bucketNamePrefix,
  bundlePrefix,
  environmentBundlePolicy,
  tlsOnlyBucketPolicy,
  writerRoleNamePrefix,
} from "../../components/storage/bundle-policies.js";
import { irsaTrustPolicy, issuerHostPath } from "../../components/cluster/iam-documents.js";
import { ENVIRONMENT_ID } from "../../tiers/schema/names.js";
import { allows, iamMatches, type Statement } from "./iam-match.js";

const BUCKET = "arn:aws:s3:::tiers-stress-us-east-1-abc";
const statements = (doc: string): Statement[] => (JSON.parse(doc) as { Statement: Statement[] }).Statement;

describe("environmentBundlePolicy", () => {
  it("allows its own prefix and nothing else", () => {
    const s = statements(environmentBundlePolicy(BUCKET, bundlePrefix("env-1")));
    expect(allows(s, "s3:PutObject", `${BUCKET}/bundles/env-1/env-1-c1.tar.gz`)).toBe(true);
    expect(allows(s, "s3:ListBucket", BUCKET, "bundles/env-1/")).toBe(true);
    expect(allows(s, "s3:PutObject", `${BUCKET}/bundles/env-10/x.tar.gz`)).toBe(false);
    expect(allows(s, "s3:PutObject", `${BUCKET}/bundles/x.tar.gz`)).toBe(false);
    expect(allows(s, "s3:DeleteObject", `${BUCKET}/bundles/env-1/x.tar.gz`)).toBe(false);
    expect(allows(s, "s3:ListBucket", BUCKET, "bundles/")).toBe(false);
    expect(allows(s, "s3:ListBucket", BUCKET, "bundles/env-10/")).toBe(false);
    expect(allows(s, "s3:PutObject", "arn:aws:s3:::another-bucket/bundles/env-1/x")).toBe(false);
  });

  it("property: no environment can write or list another's prefix", () => {
    const id = fc.stringMatching(ENVIRONMENT_ID);
    fc.assert(
      fc.property(id, id, fc.stringMatching(/^[a-z0-9._-]{1,20}$/), (a, b, object) => {
        fc.pre(a !== b);
        const s = statements(environmentBundlePolicy(BUCKET, bundlePrefix(a)));
        return (
          !allows(s, "s3:PutObject", `${BUCKET}/${bundlePrefix(b)}${object}`) &&
          !allows(s, "s3:GetObject", `${BUCKET}/${bundlePrefix(b)}${object}`) &&
          !allows(s, "s3:ListBucket", BUCKET, bundlePrefix(b)) &&
          allows(s, "s3:PutObject", `${BUCKET}/${bundlePrefix(a)}${object}`)
        );
      }),
    );
  });
});

describe("bucket and trust policies", () => {
  it("denies every request without TLS", () => {
    expect(JSON.parse(tlsOnlyBucketPolicy(BUCKET))).toStrictEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "DenyInsecureTransport",
          Effect: "Deny",
          Principal: "*",
          Action: "s3:*",
          Resource: [BUCKET, `${BUCKET}/*`],
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        },
      ],
    });
  });

  it("trusts only one service account of one namespace", () => {
    const url = "https://oidc.eks.us-east-1.amazonaws.com/id/ABC";
    const doc = JSON.parse(irsaTrustPolicy("arn:oidc", url, "tiers-env-1", "orchestrator")) as {
      Statement: Statement[];
    };
    expect(doc.Statement[0]!.Condition).toStrictEqual({
      StringEquals: {
        "oidc.eks.us-east-1.amazonaws.com/id/ABC:sub": "system:serviceaccount:tiers-env-1:orchestrator",
        "oidc.eks.us-east-1.amazonaws.com/id/ABC:aud": "sts.amazonaws.com",
      },
    });
    expect(issuerHostPath(url)).toBe("oidc.eks.us-east-1.amazonaws.com/id/ABC");
  });

  it.each([
    ["stress", "us-east-1", "tiers-stress-us-east-1-"],
    ["Stress_20260101.1200", "ap-southeast-1", "tiers-stress-20260101-1200-ap-southe-"],
  ])("bucketNamePrefix(%s, %s) = %s (at most 37 characters)", (stack, region, prefix) => {
    expect(bucketNamePrefix(stack, region)).toBe(prefix);
    expect(prefix.length).toBeLessThanOrEqual(37);
  });

  it("property: a writer role's name prefix leaves room for AWS's 26-character suffix", () => {
    fc.assert(
      fc.property(fc.stringMatching(ENVIRONMENT_ID), (id) => {
        const prefix = writerRoleNamePrefix(id);
        return prefix.length <= 38 && /^tiers-[a-z0-9_-]*-$/.test(prefix) && !/[-_]-$/.test(prefix);
      }),
    );
    expect(writerRoleNamePrefix("env-1")).toBe("tiers-env-1-");
  });

  it("iamMatches reads * and ? as IAM does", () => {
    expect(iamMatches("arn:aws:s3:::b/bundles/env-1/*", "arn:aws:s3:::b/bundles/env-1/x/y")).toBe(true);
    expect(iamMatches("s3:Get?bject", "s3:GetObject")).toBe(true);
    expect(iamMatches("s3:Get*", "s3:PutObject")).toBe(false);
  });
});
