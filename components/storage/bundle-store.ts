import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { argsError } from "../shared/args-error.js";
import { childrenOf } from "../shared/children.js";
import { environmentTag } from "../shared/labels.js";
import { irsaTrustPolicy } from "../cluster/iam-documents.js";
import {
  bucketNamePrefix,
  bundlePrefix,
  environmentBundlePolicy,
  tlsOnlyBucketPolicy,
  writerRoleNamePrefix,
} from "./bundle-policies.js";

export const BUNDLE_STORE_TYPE = "tiers:storage:BundleStore";

/** An environment that writes bundles: its id, and the pods (namespace + service account) that act for it. */
export interface BundleWriter {
  readonly id: string;
  readonly namespace: string;
  readonly serviceAccount: string;
}

export interface BundleStoreArgs {
  readonly stack: string;
  /** AWS region code; the provider passed with these args must be for the same region. */
  readonly region: string;
  /** The cluster's IRSA OIDC provider. */
  readonly oidcProviderArn: pulumi.Input<string>;
  readonly oidcIssuerUrl: pulumi.Input<string>;
  /** One IAM role each, allowed to write only under `bundles/<id>/`. */
  readonly environments: readonly BundleWriter[];
  /**
   * Days after which a bundle object expires (the runner has long since carried it to the centre).
   * @default 30
   */
  readonly expireDays?: number;
  /**
   * Days a replaced or deleted object version is kept.
   * @default 7
   */
  readonly noncurrentExpireDays?: number;
  /**
   * Let `pulumi destroy` delete a bucket that still holds bundles (ephemeral stacks).
   * @default false
   */
  readonly forceDestroy?: boolean;
}

export interface BundleStoreOutputs {
  readonly bucketName: pulumi.Output<string>;
  readonly bucketArn: pulumi.Output<string>;
  /** Per environment id: the role its pods assume and the prefix it writes. */
  readonly writers: Readonly<
    Record<string, { readonly roleArn: pulumi.Output<string>; readonly prefix: string }>
  >;
}

/** A region's bundle bucket (encrypted, private, versioned, TLS-only, expiring) and one writer role per environment. */
export class BundleStore extends pulumi.ComponentResource implements BundleStoreOutputs {
  public readonly bucketName: pulumi.Output<string>;
  public readonly bucketArn: pulumi.Output<string>;
  public readonly writers: BundleStoreOutputs["writers"];

  constructor(
    name: string,
    args: BundleStoreArgs,
    provider: aws.Provider,
    opts: pulumi.ComponentResourceOptions = {},
  ) {
    validateBundleStoreArgs(name, args);
    super(BUNDLE_STORE_TYPE, name, {}, opts);
    const out = createBundleStore(name, args, this, provider);
    this.bucketName = out.bucketName;
    this.bucketArn = out.bucketArn;
    this.writers = out.writers;
    this.registerOutputs({ bucketName: this.bucketName, bucketArn: this.bucketArn });
  }
}

export function validateBundleStoreArgs(name: string, args: BundleStoreArgs): void {
  for (const [field, value] of [
    ["expireDays", args.expireDays],
    ["noncurrentExpireDays", args.noncurrentExpireDays],
  ] as const) {
    if (value !== undefined && !(Number.isInteger(value) && value >= 1 && value <= 3650)) {
      throw argsError(
        BUNDLE_STORE_TYPE,
        name,
        field,
        "is out of range",
        value,
        "an integer from 1 to 3650 days",
      );
    }
  }
  const seen = new Set<string>();
  for (const e of args.environments) {
    if (seen.has(e.id)) {
      throw argsError(
        BUNDLE_STORE_TYPE,
        name,
        "environments",
        "lists an environment twice",
        e.id,
        "distinct environment ids",
      );
    }
    seen.add(e.id);
  }
}

export function createBundleStore(
  name: string,
  args: BundleStoreArgs,
  parent: pulumi.Resource,
  provider: aws.Provider,
): BundleStoreOutputs {
  const c = childrenOf(parent, name, provider);
  const bucket = new aws.s3.Bucket(
    c.name("bundles"),
    { bucketPrefix: bucketNamePrefix(args.stack, args.region), forceDestroy: args.forceDestroy ?? false },
    c.opts(),
  );
  const publicAccess = new aws.s3.BucketPublicAccessBlock(
    c.name("bundles"),
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
    c.name("bundles"),
    { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
    c.opts(),
  );
  new aws.s3.BucketServerSideEncryptionConfiguration(
    c.name("bundles"),
    {
      bucket: bucket.id,
      rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" }, bucketKeyEnabled: true }],
    },
    c.opts(),
  );
  const versioning = new aws.s3.BucketVersioning(
    c.name("bundles"),
    { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
    c.opts(),
  );
  new aws.s3.BucketLifecycleConfiguration(
    c.name("bundles"),
    {
      bucket: bucket.id,
      rules: [
        {
          id: "expire-bundles",
          status: "Enabled",
          filter: { prefix: "bundles/" },
          expiration: { days: args.expireDays ?? 30 },
          noncurrentVersionExpiration: { noncurrentDays: args.noncurrentExpireDays ?? 7 },
          abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
        },
      ],
    },
    c.opts({ dependsOn: [versioning] }),
  );
  new aws.s3.BucketPolicy(
    c.name("bundles"),
    { bucket: bucket.id, policy: bucket.arn.apply(tlsOnlyBucketPolicy) },
    c.opts({ dependsOn: [publicAccess] }),
  );

  const writers: Record<string, { roleArn: pulumi.Output<string>; prefix: string }> = {};
  for (const env of args.environments) {
    const prefix = bundlePrefix(env.id);
    const role = new aws.iam.Role(
      c.name(`${env.id}-writer`),
      {
        namePrefix: writerRoleNamePrefix(env.id),
        description: `Environment ${env.id}: write bundles under s3://<bucket>/${prefix}`,
        // The one AWS resource of a single environment: tagged as that environment's, not `shared`.
        tags: environmentTag(env.id),
        assumeRolePolicy: pulumi
          .all([args.oidcProviderArn, args.oidcIssuerUrl])
          .apply(([arn, url]) => irsaTrustPolicy(arn, url, env.namespace, env.serviceAccount)),
      },
      c.opts(),
    );
    new aws.iam.RolePolicy(
      c.name(`${env.id}-writer`),
      { role: role.id, policy: bucket.arn.apply((arn) => environmentBundlePolicy(arn, prefix)) },
      c.opts(),
    );
    writers[env.id] = { roleArn: role.arn, prefix };
  }
  return { bucketName: bucket.bucket, bucketArn: bucket.arn, writers };
}
