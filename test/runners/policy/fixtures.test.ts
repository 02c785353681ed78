/**
 * Broken fixtures through the offline check: each breaks one policy and must be reported once,
 * on the resource at fault, with a message that says how to fix it. The fixture program registers
 * resources directly (what components and stack validation never let through); the stack files go
 * through the real program.
 */
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { POLICIES } from "../../../policies/policies.js";
import { captureStack } from "../../../runners/infra/capture.js";
import type { CapturedGraph } from "../../../runners/infra/graph.js";
import { checkGraph, type Violation } from "../../../runners/policy/check.js";

const FIXTURE = (f: string): string =>
  fileURLToPath(new URL(`../../fixtures/policies/${f}`, import.meta.url));
const STACK = "base-20260501-0930";
const FIX_EXPIRY = "set test-tiers:expiresAt in the stack config";
const FIX_OWNER =
  "set test-tiers:owner in the stack config (TestTier puts it into every region provider's defaultTags)";

type Expected = Pick<Violation, "policy" | "type" | "name" | "message">;
const STACK_ROOT = { type: "pulumi:pulumi:Stack", name: `test-tiers-${STACK}` };
const BUCKET = { type: "aws:s3/bucket:Bucket", name: "bundles" };
const SUT = { type: "kubernetes:apps/v1:Deployment", name: "sut" };
const NAME = "bucket tiers-fixture-… (bundles)";

/** [what fixture:break names, the one violation it must cause] */
const PROGRAM_BREAKS: [string, Expected][] = [
  [
    "environment-default-deny",
    {
      policy: "environment-default-deny",
      type: "kubernetes:core/v1:Namespace",
      name: "env-1",
      message:
        "namespace tiers-env-1 has no NetworkPolicy that denies all ingress and egress; add one with podSelector: {}, policyTypes: [Ingress, Egress] and no ingress or egress rules",
    },
  ],
  [
    "environment-no-exposure",
    {
      policy: "environment-no-exposure",
      type: "kubernetes:core/v1:Service",
      name: "sut",
      message:
        "Service tiers-env-1/sut is of type LoadBalancer, which exposes environment env-1 outside the cluster; use type ClusterIP (reach it with kubectl port-forward)",
    },
  ],
  [
    "host-access",
    {
      policy: "host-access",
      ...SUT,
      message:
        "Deployment tiers-env-1/sut: hostNetwork: true; remove it (only workloads in chaos-mesh or monitoring may reach the node, never an environment's)",
    },
  ],
  [
    "cross-namespace-binding",
    {
      policy: "cross-namespace-binding",
      type: "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
      name: "read",
      message:
        "RoleBinding tiers-env-1/read binds ServiceAccount tiers-env-2/orchestrator of another namespace; bind only subjects of tiers-env-1",
    },
  ],
  [
    "container-resources",
    {
      policy: "container-resources",
      ...SUT,
      message:
        "Deployment tiers-env-1/sut: container sut has no limits.cpu and limits.memory; set resources.requests and resources.limits for cpu and memory on every container",
    },
  ],
  [
    "container-non-root",
    {
      policy: "container-non-root",
      ...SUT,
      message:
        "Deployment tiers-env-1/sut: container sut may run as root (runAsNonRoot is not true); set securityContext.runAsNonRoot: true and a non-zero runAsUser",
    },
  ],
  [
    "container-read-only-root",
    {
      policy: "container-read-only-root",
      ...SUT,
      message:
        "Deployment tiers-env-1/sut: container sut has a writable root filesystem; set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where it must write (/tmp)",
    },
  ],
  [
    "pinned-images",
    {
      policy: "pinned-images",
      ...SUT,
      message:
        'Deployment tiers-env-1/sut: container sut: image "ghcr.io/test-tiers/sut:latest" uses the latest tag, which is not a pinned version; use a version tag (repo:1.2.3) or a digest (repo@sha256:…)',
    },
  ],
  [
    "workload-probes",
    {
      policy: "workload-probes",
      ...SUT,
      message:
        "Deployment tiers-env-1/sut: container sut has no readinessProbe and livenessProbe; give every container a readinessProbe and a livenessProbe",
    },
  ],
  [
    "job-ttl",
    {
      policy: "job-ttl",
      type: "kubernetes:batch/v1:Job",
      name: "load",
      message:
        "Job tiers-env-1/load: has no ttlSecondsAfterFinished (finished Jobs are kept for ever); set spec.ttlSecondsAfterFinished (seconds, e.g. 3600)",
    },
  ],
  [
    "s3-encryption",
    {
      policy: "s3-encryption",
      ...BUCKET,
      message: `${NAME} states no default encryption; add a BucketServerSideEncryptionConfiguration with sseAlgorithm aws:kms or aws:kms:dsse`,
    },
  ],
  [
    "s3-public-access-block",
    {
      policy: "s3-public-access-block",
      ...BUCKET,
      message: `the public access block of ${NAME} leaves blockPublicPolicy off; set it to true`,
    },
  ],
  [
    "s3-tls-only",
    {
      policy: "s3-tls-only",
      ...BUCKET,
      message: `${NAME} accepts requests without TLS; add a BucketPolicy statement that denies s3:* to every principal on the bucket and bucket/* when aws:SecureTransport is false`,
    },
  ],
  [
    "s3-bundle-versioning",
    {
      policy: "s3-bundle-versioning",
      ...BUCKET,
      message: `bundle store ${NAME} does not keep versions; add a BucketVersioning with versioningConfiguration.status Enabled`,
    },
  ],
  [
    "s3-lifecycle-expiry",
    {
      policy: "s3-lifecycle-expiry",
      ...BUCKET,
      message: `${NAME} never expires its objects; add a BucketLifecycleConfiguration rule with status Enabled and expiration.days`,
    },
  ],
  [
    "s3-inbox-writers",
    {
      policy: "s3-inbox-writers",
      type: "aws:s3/bucketPolicy:BucketPolicy",
      name: "central-inbox",
      message:
        "inbox bucket tiers-central-inbox-… (central-inbox): statement Open lets every principal put objects; statement Open allows puts on arn:aws:s3:::tiers-central-inbox-d808c0746b8a/*, not one environment's inbox/<env>/* prefix; it lets no environment put bundles (no writer under inbox/<env>/)",
    },
  ],
  [
    "rds-encrypted-private",
    {
      policy: "rds-encrypted-private",
      type: "aws:rds/instance:Instance",
      name: "central",
      message: "RDS Instance central: it is publicly accessible (set publiclyAccessible: false)",
    },
  ],
  [
    "no-plaintext-secrets",
    {
      policy: "no-plaintext-secrets",
      ...SUT,
      message:
        "Deployment tiers-env-1/sut: container sut sets API_TOKEN to a literal value; read it from a Secret (valueFrom.secretKeyRef)",
    },
  ],
  [
    "no-plaintext-secrets:kubeconfig",
    {
      policy: "no-plaintext-secrets",
      type: "pulumi:providers:kubernetes",
      name: "kube",
      message: "kubernetes provider kube: kubeconfig is plain text; wrap it in pulumi.secret()",
    },
  ],
  [
    "tier-capacity",
    {
      policy: "tier-capacity",
      ...STACK_ROOT,
      message:
        "tier base reaches 48 vCPU and 192 GiB at its ceiling (node group nodes: 12 × m6i.xlarge), over the catalog's cap of 40 vCPU and 160 GiB (1 × 10 × m6i.xlarge); lower maxSize or the instance type",
    },
  ],
  [
    "tier-instance-types",
    {
      policy: "tier-instance-types",
      type: "aws:eks/nodeGroup:NodeGroup",
      name: "nodes",
      message:
        "node group nodes of tier base uses c6i.xlarge, not allowed for the tier; use m6i.xlarge or r6i.xlarge",
    },
  ],
  [
    "allowed-regions",
    {
      policy: "allowed-regions",
      type: "pulumi:providers:aws",
      name: "aws",
      message:
        "AWS provider aws is for us-west-2, which is not an allowed region; use one of us-east-1, eu-west-1, ap-southeast-1 or extend allowedRegions in the policy config",
    },
  ],
  [
    "lifecycle-tags",
    {
      policy: "lifecycle-tags",
      type: "pulumi:providers:aws",
      name: "aws",
      message: `AWS provider aws: its defaultTags lack test-tiers:owner; ${FIX_OWNER}`,
    },
  ],
  [
    "ephemeral-expiry",
    {
      policy: "ephemeral-expiry",
      ...STACK_ROOT,
      message: `ephemeral stack ${STACK} has no expiry; ${FIX_EXPIRY}`,
    },
  ],
  [
    "eks-control-plane-logging",
    {
      policy: "eks-control-plane-logging",
      type: "aws:eks/cluster:Cluster",
      name: "cluster",
      message:
        "cluster cluster does not log audit and authenticator; add them to enabledClusterLogTypes (stack config test-tiers:cluster.logTypes)",
    },
  ],
  [
    "eks-public-endpoint",
    {
      policy: "eks-public-endpoint",
      type: "aws:eks/cluster:Cluster",
      name: "cluster",
      message:
        "cluster cluster has a public API endpoint open to 0.0.0.0/0; list the networks that may reach it in publicAccessCidrs (stack config test-tiers:cluster.publicAccessCidrs) or set endpointPublicAccess: false",
    },
  ],
];

/** [stack, stack file, the one violation]: bad stack configs the stack validator accepts and the pack refuses. */
const STACK_FILE_BREAKS: [string, string, Expected][] = [
  [
    "no-owner",
    "Pulumi.no-owner.yaml",
    {
      policy: "lifecycle-tags",
      type: "pulumi:providers:aws",
      name: "no-owner-aws-us-east-1",
      message: `AWS provider no-owner-aws-us-east-1: its defaultTags lack test-tiers:owner; ${FIX_OWNER}`,
    },
  ],
  [
    "open-endpoint",
    "Pulumi.open-endpoint.yaml",
    {
      policy: "eks-public-endpoint",
      type: "aws:eks/cluster:Cluster",
      name: "us-east-1-cluster",
      message:
        "cluster us-east-1-cluster has a public API endpoint open to 0.0.0.0/0; list the networks that may reach it in publicAccessCidrs (stack config test-tiers:cluster.publicAccessCidrs) or set endpointPublicAccess: false",
    },
  ],
  [
    "few-logs",
    "Pulumi.few-logs.yaml",
    {
      policy: "eks-control-plane-logging",
      type: "aws:eks/cluster:Cluster",
      name: "us-east-1-cluster",
      message:
        "cluster us-east-1-cluster does not log audit and authenticator; add them to enabledClusterLogTypes (stack config test-tiers:cluster.logTypes)",
    },
  ],
  [
    "other-region",
    "Pulumi.other-region.yaml",
    {
      policy: "allowed-regions",
      type: "pulumi:providers:aws",
      name: "other-region-aws-us-west-2",
      message:
        "AWS provider other-region-aws-us-west-2 is for us-west-2, which is not an allowed region; use one of us-east-1, eu-west-1, ap-southeast-1 or extend allowedRegions in the policy config",
    },
  ],
  [
    STACK,
    `Pulumi.${STACK}.yaml`,
    {
      policy: "ephemeral-expiry",
      ...STACK_ROOT,
      message: `ephemeral stack ${STACK} has no expiry; ${FIX_EXPIRY}`,
    },
  ],
];

const program = new Map<string, CapturedGraph>();
const files = new Map<string, CapturedGraph>();

beforeAll(async () => {
  const jobs = [
    ...["(none)", ...PROGRAM_BREAKS.map(([b]) => b)].map((b) => async () => {
      program.set(
        b,
        await captureStack(STACK, {
          stackFile: FIXTURE("Pulumi.fixture.yaml"),
          program: FIXTURE("broken-program.ts"),
          overrides: { "fixture:break": b === "(none)" ? [] : [b] },
        }),
      );
    }),
    ...STACK_FILE_BREAKS.map(([stack, file]) => async () => {
      files.set(stack, await captureStack(stack, { stackFile: FIXTURE(file) }));
    }),
  ];
  const workers = Array.from({ length: availableParallelism() }, async () => {
    for (let job = jobs.shift(); job; job = jobs.shift()) await job();
  });
  await Promise.all(workers);
}, 300_000);

const pick = (v: Violation): Expected => ({
  policy: v.policy,
  type: v.type,
  name: v.name,
  message: v.message,
});

it("breaks every policy of the pack in at least one fixture", () => {
  const broken = new Set([
    ...PROGRAM_BREAKS.map(([, e]) => e.policy),
    ...STACK_FILE_BREAKS.map(([, , e]) => e.policy),
  ]);
  expect([...broken].sort()).toStrictEqual(POLICIES.map((p) => p.name).sort());
});

it("complies with every policy when nothing is broken (so each violation below has one cause)", async () => {
  const g = program.get("(none)")!;
  expect(g.error).toBeUndefined();
  expect((await checkGraph(g)).violations).toStrictEqual([]);
});

describe.each(PROGRAM_BREAKS)("the fixture program breaking %s", (name, expected) => {
  it("is reported once, on the resource at fault, saying how to fix it", async () => {
    const g = program.get(name)!;
    expect(g.error).toBeUndefined();
    const { violations } = await checkGraph(g);
    expect(violations.map(pick)).toStrictEqual([expected]);
    expect(violations[0]!.level).toBe("mandatory");
    const at = g.resources.find((r) => r.urn === violations[0]!.urn);
    expect(at ? { type: at.type, name: at.name } : { urn: violations[0]!.urn }).toStrictEqual(
      at ? { type: expected.type, name: expected.name } : { urn: g.root },
    );
  });
});

describe.each(STACK_FILE_BREAKS)("stack %s (%s), through the real program", (stack, _file, expected) => {
  it("is accepted by the stack validator and reported once by the pack", async () => {
    const g = files.get(stack)!;
    expect(g.error).toBeUndefined();
    expect(g.ok).toBe(true);
    expect((await checkGraph(g)).violations.map(pick)).toStrictEqual([expected]);
  });
});
