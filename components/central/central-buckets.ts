import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import type { Children } from "../shared/children.js";

export interface PrivateBucketArgs {
  readonly bucketPrefix: string;
  /** The bucket policy, from the bucket's ARN. */
  readonly policy: (bucketArn: string) => string;
  readonly lifecycleRules: aws.types.input.s3.BucketLifecycleConfigurationRule[];
  readonly forceDestroy: boolean;
}

/**
 * A private bucket as every bucket of this project is: SSE-KMS with a bucket key, public access
 * blocked, objects owned by the bucket owner, versioned, a lifecycle, and a TLS-only policy.
 */
export function createPrivateBucket(
  c: Children,
  suffix: string,
  args: PrivateBucketArgs,
): { bucket: aws.s3.Bucket; ready: pulumi.Resource[] } {
  const bucket = new aws.s3.Bucket(
    c.name(suffix),
    { bucketPrefix: args.bucketPrefix, forceDestroy: args.forceDestroy },
    c.opts(),
  );
  const publicAccess = new aws.s3.BucketPublicAccessBlock(
    c.name(suffix),
    {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    },
    c.opts(),
  );
  new aws.s3.BucketOwnershipControls(
    c.name(suffix),
    { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
    c.opts(),
  );
  new aws.s3.BucketServerSideEncryptionConfiguration(
    c.name(suffix),
    {
      bucket: bucket.id,
      rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" }, bucketKeyEnabled: true }],
    },
    c.opts(),
  );
  const versioning = new aws.s3.BucketVersioning(
    c.name(suffix),
    { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
    c.opts(),
  );
  new aws.s3.BucketLifecycleConfiguration(
    c.name(suffix),
    { bucket: bucket.id, rules: args.lifecycleRules },
    c.opts({ dependsOn: [versioning] }),
  );
  const bucketPolicy = new aws.s3.BucketPolicy(
    c.name(suffix),
    { bucket: bucket.id, policy: bucket.arn.apply(args.policy) },
    c.opts({ dependsOn: [publicAccess] }),
  );
  return { bucket, ready: [publicAccess, bucketPolicy, versioning] };
}
