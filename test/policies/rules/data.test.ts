/** Data: S3 buckets (encryption, public access, TLS, versioning of bundle stores, expiry), RDS, secrets. */
import { describe, expect, it } from "vitest";
import { rdsEncryptedPrivate } from "../../../policies/rules/rds-encrypted-private.js";
import { noPlaintextSecrets } from "../../../policies/rules/no-plaintext-secrets.js";
import { s3BundleVersioning } from "../../../policies/rules/s3-bundle-versioning.js";
import { s3Encryption } from "../../../policies/rules/s3-encryption.js";
import { s3LifecycleExpiry } from "../../../policies/rules/s3-lifecycle-expiry.js";
import { s3PublicAccessBlock } from "../../../policies/rules/s3-public-access-block.js";
import { s3TlsOnly } from "../../../policies/rules/s3-tls-only.js";
import { tlsOnlyBucketPolicy } from "../../../components/storage/bundle-policies.js";
import { SECRET_MARKER } from "../../../runners/infra/graph.js";
import { fake, messages, validateResource, validateStack, type FakeResource } from "../fake-args.js";

const STORE = "tiers:storage:BundleStore";
const ARN = "arn:aws:s3:::tiers-base-us-east-1-abc";

/** A bundle store bucket and the companions that make it compliant, linked by property dependency. */
function bucketWith(
  replace: Partial<
    Record<"sse" | "pab" | "policy" | "versioning" | "lifecycle", Record<string, unknown> | null>
  > = {},
  options: { parents?: string[]; bucketProps?: Record<string, unknown> } = {},
): FakeResource[] {
  const parents = options.parents ?? ["tiers:tier:TestTier", STORE];
  const bucket = fake(
    "aws:s3/bucket:Bucket",
    "us-east-1-bundles",
    { bucketPrefix: "tiers-base-us-east-1-", ...options.bucketProps },
    { parents },
  );
  const companion = (
    type: string,
    key: keyof typeof replace,
    props: Record<string, unknown>,
  ): FakeResource[] => {
    const p = replace[key] === undefined ? props : replace[key];
    if (p === null) return [];
    return [
      fake(
        type,
        `us-east-1-bundles-${key}`,
        { bucket: "us-east-1-bundles-id", ...p },
        { parents, propertyDependencies: { bucket: [bucket.urn] }, dependencies: [bucket.urn] },
      ),
    ];
  };
  return [
    bucket,
    ...companion(
      "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
      "sse",
      {
        rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" }, bucketKeyEnabled: true }],
      },
    ),
    ...companion("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "pab", {
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    }),
    ...companion("aws:s3/bucketPolicy:BucketPolicy", "policy", {
      // The statement the BundleStore component writes.
      policy: tlsOnlyBucketPolicy(ARN),
    }),
    ...companion("aws:s3/bucketVersioning:BucketVersioning", "versioning", {
      versioningConfiguration: { status: "Enabled" },
    }),
    ...companion("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "lifecycle", {
      rules: [{ id: "expire-bundles", status: "Enabled", expiration: { days: 30 } }],
    }),
  ];
}

const S3 = [s3Encryption, s3PublicAccessBlock, s3TlsOnly, s3BundleVersioning, s3LifecycleExpiry];
const BUCKET_URN = bucketWith()[0]!.urn;
const NAME = "bucket tiers-base-us-east-1-… (us-east-1-bundles)";

describe.each(S3.map((p) => [p.name, p] as const))("%s", (_name, policy) => {
  it("passes the bundle store the component builds", async () => {
    expect(await validateStack(policy, bucketWith())).toStrictEqual({ violations: [] });
  });
  it("is not applicable without buckets", async () => {
    const o = await validateStack(policy, [fake("aws:ec2/vpc:Vpc", "vpc", {})]);
    expect(o.violations).toStrictEqual([]);
    expect(o.notApplicable).toMatch(/^the stack has no (S3|bundle store) bucket$/);
  });
});

describe("S3 violations, each once, on the bucket", () => {
  it.each<[string, (typeof S3)[number], FakeResource[], string]>([
    [
      "no encryption",
      s3Encryption,
      bucketWith({ sse: null }),
      `${NAME} states no default encryption; add a BucketServerSideEncryptionConfiguration with sseAlgorithm aws:kms or aws:kms:dsse`,
    ],
    [
      "SSE-S3 where SSE-KMS is required",
      s3Encryption,
      bucketWith({ sse: { rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] } }),
      `${NAME} is encrypted with AES256, which is not allowed; use sseAlgorithm aws:kms or aws:kms:dsse`,
    ],
    [
      "no public access block",
      s3PublicAccessBlock,
      bucketWith({ pab: null }),
      `${NAME} has no public access block; add a BucketPublicAccessBlock with blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets all true`,
    ],
    [
      "a block with two settings off",
      s3PublicAccessBlock,
      bucketWith({ pab: { blockPublicAcls: true, blockPublicPolicy: false, ignorePublicAcls: true } }),
      `the public access block of ${NAME} leaves blockPublicPolicy and restrictPublicBuckets off; set them to true`,
    ],
    [
      "no bucket policy",
      s3TlsOnly,
      bucketWith({ policy: null }),
      `${NAME} accepts requests without TLS; add a BucketPolicy statement that denies s3:* to every principal on the bucket and bucket/* when aws:SecureTransport is false`,
    ],
    [
      "a TLS statement that forgets the objects",
      s3TlsOnly,
      bucketWith({
        policy: {
          policy: JSON.stringify({
            Statement: {
              Effect: "Deny",
              Principal: "*",
              Action: "s3:*",
              Resource: ARN,
              Condition: { Bool: { "aws:SecureTransport": false } },
            },
          }),
        },
      }),
      `${NAME} accepts requests without TLS; add a BucketPolicy statement that denies s3:* to every principal on the bucket and bucket/* when aws:SecureTransport is false`,
    ],
    [
      "versioning suspended",
      s3BundleVersioning,
      bucketWith({ versioning: { versioningConfiguration: { status: "Suspended" } } }),
      `bundle store ${NAME} does not keep versions; add a BucketVersioning with versioningConfiguration.status Enabled`,
    ],
    [
      "no lifecycle",
      s3LifecycleExpiry,
      bucketWith({ lifecycle: null }),
      `${NAME} never expires its objects; add a BucketLifecycleConfiguration rule with status Enabled and expiration.days`,
    ],
    [
      "a disabled expiry rule",
      s3LifecycleExpiry,
      bucketWith({ lifecycle: { rules: [{ id: "x", status: "Disabled", expiration: { days: 30 } }] } }),
      `${NAME} never expires its objects; add a BucketLifecycleConfiguration rule with status Enabled and expiration.days`,
    ],
  ])("%s", async (_name, policy, resources, message) => {
    expect(await validateStack(policy, resources)).toStrictEqual({
      violations: [{ message, urn: BUCKET_URN }],
    });
  });

  it("asks versioning only of bundle stores", async () => {
    const o = await validateStack(
      s3BundleVersioning,
      bucketWith({ versioning: null }, { parents: ["tiers:tier:TestTier"] }),
    );
    expect(o).toStrictEqual({ violations: [], notApplicable: "the stack has no bundle store bucket" });
  });

  it("finds companions that name the bucket literally, and accepts inline (legacy) settings on the bucket", async () => {
    const [bucket] = bucketWith({}, { bucketProps: { bucket: "named", versioning: { enabled: true } } });
    const literal = fake("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "pab", {
      bucket: "named",
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    expect(await validateStack(s3PublicAccessBlock, [bucket!, literal])).toStrictEqual({ violations: [] });
    expect(await validateStack(s3BundleVersioning, [bucket!])).toStrictEqual({ violations: [] });
  });

  it("does not take another bucket's companions", async () => {
    const [a] = bucketWith({ sse: null });
    const other = bucketWith().map((r) => ({
      ...r,
      urn: r.urn.replace("us-east-1-bundles", "other"),
      name: r.name.replace("us-east-1-bundles", "other"),
    }));
    const companions = other.slice(1).map((c) => ({
      ...c,
      propertyDependencies: { bucket: [other[0]!.urn] },
      dependencies: [other[0]!.urn],
    }));
    const o = await validateStack(s3Encryption, [a!, other[0]!, ...companions]);
    expect(o.violations.map((v) => v.urn)).toStrictEqual([a!.urn]);
  });
});

describe("rds-encrypted-private", () => {
  it.each<[string, string, Record<string, unknown>, string[]]>([
    [
      "an encrypted private instance",
      "aws:rds/instance:Instance",
      {
        storageEncrypted: true,
        publiclyAccessible: false,
        dbSubnetGroupName: "private",
        backupRetentionPeriod: 7,
      },
      [],
    ],
    [
      "an unencrypted public instance",
      "aws:rds/instance:Instance",
      { engine: "postgres", publiclyAccessible: true, dbSubnetGroupName: "private" },
      [
        "RDS Instance central: storage is not encrypted (set storageEncrypted: true); it is publicly accessible (set publiclyAccessible: false)",
      ],
    ],
    [
      "an instance in the default VPC, without backups",
      "aws:rds/instance:Instance",
      { storageEncrypted: true, backupRetentionPeriod: 0 },
      [
        "RDS Instance central: it names no DB subnet group (set dbSubnetGroupName to a group of private subnets); automated backups are off (set backupRetentionPeriod to 1 or more days)",
      ],
    ],
    [
      "an unencrypted Aurora cluster",
      "aws:rds/cluster:Cluster",
      { engine: "aurora-postgresql" },
      ["RDS Cluster central: storage is not encrypted (set storageEncrypted: true)"],
    ],
    [
      "a public cluster instance",
      "aws:rds/clusterInstance:ClusterInstance",
      { publiclyAccessible: true },
      ["RDS ClusterInstance central: it is publicly accessible (set publiclyAccessible: false)"],
    ],
  ])("%s", async (_name, type, props, expected) => {
    expect(await messages(validateResource(rdsEncryptedPrivate, fake(type, "central", props)))).toStrictEqual(
      expected,
    );
  });
});

describe("no-plaintext-secrets", () => {
  const offline = { config: { "no-plaintext-secrets": { redactedSecretMarker: SECRET_MARKER } } };
  const secret = (stringData: Record<string, unknown>): FakeResource =>
    fake("kubernetes:core/v1:Secret", "env-1-api-token", {
      metadata: { name: "orchestrator-api-token", namespace: "tiers-env-1" },
      stringData,
    });
  const PEM = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n";

  it("counts the capture's redacted values as Pulumi secrets", async () => {
    expect(
      await messages(
        validateResource(
          noPlaintextSecrets,
          secret({ token: SECRET_MARKER, "private.pem": SECRET_MARKER }),
          offline,
        ),
      ),
    ).toStrictEqual([]);
    const provider = fake("pulumi:providers:kubernetes", "us-east-1-k8s", { kubeconfig: SECRET_MARKER });
    expect(await messages(validateResource(noPlaintextSecrets, provider, offline))).toStrictEqual([]);
  });

  it("catches real plain text where a secret belongs, when it can see secrets (offline)", async () => {
    expect(
      await messages(
        validateResource(noPlaintextSecrets, secret({ token: "s3cr3t", "private.pem": PEM }), offline),
      ),
    ).toStrictEqual([
      "Secret tiers-env-1/orchestrator-api-token: stringData.token is plain text; wrap it in pulumi.secret(); stringData.private.pem is plain text; wrap it in pulumi.secret()",
    ]);
    const provider = fake("pulumi:providers:kubernetes", "kind", {
      kubeconfig: "apiVersion: v1\nusers: [{user: {token: abc}}]",
    });
    expect(await messages(validateResource(noPlaintextSecrets, provider, offline))).toStrictEqual([
      "kubernetes provider kind: kubeconfig is plain text; wrap it in pulumi.secret()",
    ]);
  });

  it("cannot tell a Secret's decrypted data from plain text under the engine, and does not guess", async () => {
    expect(
      await messages(validateResource(noPlaintextSecrets, secret({ token: "s3cr3t", "private.pem": PEM }))),
    ).toStrictEqual([]);
  });

  it.each<[string, FakeResource, string]>([
    [
      "a literal token in a credential-named environment variable",
      fake("kubernetes:apps/v1:Deployment", "sut", {
        metadata: { name: "sut", namespace: "tiers-env-1" },
        spec: {
          template: {
            spec: {
              containers: [
                {
                  name: "sut",
                  image: "x:1",
                  env: [
                    { name: "DB_PASSWORD", value: "hunter2" },
                    { name: "TIERS_SIGNING_KEY_FILE", value: "/var/run/key.pem" },
                    { name: "API_TOKEN", valueFrom: { secretKeyRef: { name: "a", key: "b" } } },
                  ],
                },
              ],
            },
          },
        },
      }),
      "Deployment tiers-env-1/sut: container sut sets DB_PASSWORD to a literal value; read it from a Secret (valueFrom.secretKeyRef)",
    ],
    [
      "a credential-named ConfigMap key",
      fake("kubernetes:core/v1:ConfigMap", "cfg", {
        metadata: { name: "cfg", namespace: "tiers-env-1" },
        data: { "plan.json": "{}", api_key: "abc" },
      }),
      "ConfigMap tiers-env-1/cfg: data.api_key holds a credential in a ConfigMap; use a Secret",
    ],
    [
      "a private key anywhere in the inputs",
      fake("aws:ec2/launchTemplate:LaunchTemplate", "nodes", {
        userData: `#!/bin/sh\necho '${PEM}' > /root/key`,
      }),
      "LaunchTemplate nodes: userData holds a private key in plain text; keep credentials out of inputs or pass them as Pulumi secrets (pulumi.secret(), a Kubernetes Secret for a workload)",
    ],
    [
      "an AWS access key id in a tag",
      fake("aws:s3/bucket:Bucket", "b", { tags: { note: "AKIAIOSFODNN7EXAMPLE" } }),
      "Bucket b: tags.note holds an AWS access key id in plain text; keep credentials out of inputs or pass them as Pulumi secrets (pulumi.secret(), a Kubernetes Secret for a workload)",
    ],
  ])("catches %s, with or without the marker", async (_name, r, message) => {
    expect(await messages(validateResource(noPlaintextSecrets, r))).toStrictEqual([message]);
    expect(await messages(validateResource(noPlaintextSecrets, r, offline))).toStrictEqual([message]);
  });
});
