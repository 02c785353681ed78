/**
 * S3 buckets and the resources that configure them. Since AWS provider v4 a bucket's encryption,
 * public access block, policy, versioning and lifecycle are resources of their own that name the
 * bucket, so the S3 policies are stack policies: they find a bucket's companions in the graph.
 */
import type { PolicyResource } from "@pulumi/policy";
import { known, str } from "./props.js";
import { typeChainOfUrn } from "./urn.js";

export const BUCKET_TYPES: ReadonlySet<string> = new Set([
  "aws:s3/bucket:Bucket",
  "aws:s3/bucketV2:BucketV2",
]);

/** A companion resource type and its V2 alias (the provider keeps both). */
export const COMPANION = {
  encryption: [
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
  ],
  publicAccessBlock: ["aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"],
  policy: ["aws:s3/bucketPolicy:BucketPolicy"],
  versioning: ["aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2"],
  lifecycle: [
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
  ],
} as const;

/** The component type whose buckets hold environments' result bundles. */
export const BUNDLE_STORE_TYPE = "tiers:storage:BundleStore";

export function bucketsOf(resources: readonly PolicyResource[]): PolicyResource[] {
  return resources.filter((r) => BUCKET_TYPES.has(r.type));
}

/**
 * The resources of `types` that configure `bucket`: their `bucket` property depends on it (the
 * program passed `bucket.id` or `bucket.bucket`), or names it literally.
 */
export function companionsOf(
  bucket: PolicyResource,
  resources: readonly PolicyResource[],
  types: readonly string[],
): PolicyResource[] {
  const name = str(known(bucket.props, "bucket"));
  return resources.filter((r) => {
    if (!types.includes(r.type)) return false;
    const viaProperty = r.propertyDependencies.bucket;
    if (viaProperty?.some((d) => d.urn === bucket.urn)) return true;
    if (viaProperty === undefined && r.dependencies.some((d) => d.urn === bucket.urn)) return true;
    return name !== undefined && str(known(r.props, "bucket")) === name;
  });
}

/** `bucket tiers-base-us-east-1-…` as messages name it: its name, its prefix, or its Pulumi name. */
export function describeBucket(bucket: PolicyResource): string {
  const name = str(known(bucket.props, "bucket"));
  if (name !== undefined) return `bucket ${name}`;
  const prefix = str(bucket.props.bucketPrefix);
  return prefix !== undefined ? `bucket ${prefix}… (${bucket.name})` : `bucket ${bucket.name}`;
}

/** The central stack's component; its inbox bucket holds bundles too. */
export const CENTRAL_ANALYSIS_TYPE = "tiers:central:CentralAnalysis";

/** Whether the bucket holds bundles: a BundleStore's, or the central stack's inbox (its URN's parent types say so). */
export function isBundleStoreBucket(bucket: { readonly urn: string; readonly name?: string }): boolean {
  const chain = typeChainOfUrn(bucket.urn);
  return (
    chain.includes(BUNDLE_STORE_TYPE) ||
    (chain.includes(CENTRAL_ANALYSIS_TYPE) && (bucket.name ?? bucket.urn).endsWith("-inbox"))
  );
}
