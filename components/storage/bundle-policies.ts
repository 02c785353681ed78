import { policy, type PolicyStatement } from "../cluster/iam-documents.js";

/** The key prefix an environment writes its bundles under: `bundles/<env id>/` (the slash matters: env-1 ≠ env-10). */
export function bundlePrefix(environmentId: string): string {
  return `bundles/${environmentId}/`;
}

/** The statement that denies every request to the bucket that does not use TLS. */
export function tlsOnlyStatement(bucketArn: string): PolicyStatement {
  return {
    Sid: "DenyInsecureTransport",
    Effect: "Deny",
    Principal: "*",
    Action: "s3:*",
    Resource: [bucketArn, `${bucketArn}/*`],
    Condition: { Bool: { "aws:SecureTransport": "false" } },
  };
}

/** Deny every request to the bucket that does not use TLS. */
export function tlsOnlyBucketPolicy(bucketArn: string): string {
  return policy(tlsOnlyStatement(bucketArn));
}

/**
 * What an environment's role may do: read and write objects under its own prefix, and list only
 * that prefix. Nothing else in the bucket, nothing in any other bucket.
 */
export function environmentBundlePolicy(bucketArn: string, prefix: string): string {
  return policy(
    {
      Sid: "ReadWriteOwnPrefix",
      Effect: "Allow",
      Action: ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
      Resource: `${bucketArn}/${prefix}*`,
    },
    {
      Sid: "ListOwnPrefix",
      Effect: "Allow",
      Action: "s3:ListBucket",
      Resource: bucketArn,
      Condition: { StringLike: { "s3:prefix": [prefix, `${prefix}*`] } },
    },
  );
}

/** S3 allows a bucket prefix of at most 37 characters, lower case letters, digits and `-`. */
export function bucketNamePrefix(stack: string, region: string): string {
  const clean = `tiers-${stack}-${region}`.toLowerCase().replace(/[^a-z0-9-]+/g, "-");
  return `${clean.slice(0, 36).replace(/-+$/, "")}-`;
}

/**
 * IAM role names are at most 64 characters; a prefix may have 38 (AWS appends 26). The logical name
 * (`<region>-<env>-writer`) can exceed that with a 40-character environment id, so the physical name
 * is `tiers-<env>-` cut to fit.
 */
export function writerRoleNamePrefix(environmentId: string): string {
  return `${`tiers-${environmentId}`.slice(0, 37).replace(/[-_]+$/, "")}-`;
}
