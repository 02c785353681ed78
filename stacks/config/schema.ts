import { z } from "zod";
import { EKS_LOG_TYPES } from "../../components/cluster/eks-cluster.js";
import { parseCidr } from "../../components/network/cidr.js";
import { AZ_COUNT_RANGE } from "../../components/network/subnets.js";
import { imagePinProblem, PINNED_IMAGE_EXPECTED } from "../../tiers/infra/image-ref.js";
import { EXPIRY_EXPECTED, OWNER_EXPECTED, ownerProblem, parseExpiry } from "../../tiers/infra/identity.js";
import { ENVIRONMENT_ID, TIER_NAMES } from "../../tiers/schema/names.js";
import { EnvironmentSpec } from "../../tiers/schema/suite.js";

/** The config namespace: the project's name in Pulumi.yaml. */
export const CONFIG_NAMESPACE = "test-tiers";
export const key = <K extends string>(k: K): `test-tiers:${K}` => `${CONFIG_NAMESPACE}:${k}`;

export { DEFAULT_IMAGES, DEFAULT_SUT_PORT } from "../../tiers/infra/defaults.js";

export const DEFAULT_EKS_VERSION = "1.34";

export const Image = z.string().superRefine((value, ctx) => {
  const problem = imagePinProblem(value);
  if (problem) {
    ctx.addIssue({
      code: "custom",
      message: `the image ${problem}`,
      params: { got: JSON.stringify(value), expected: PINNED_IMAGE_EXPECTED },
    });
  }
});

export const Cidr = z.string().superRefine((value, ctx) => {
  if (!parseCidr(value)) {
    ctx.addIssue({
      code: "custom",
      message: "is not an aligned IPv4 CIDR",
      params: { got: JSON.stringify(value), expected: "a network such as 10.0.0.0/16" },
    });
  }
});

/** Who answers for the stack: an AWS tag value and a namespace annotation. */
export const Owner = z.string().superRefine((value, ctx) => {
  const problem = ownerProblem(value);
  if (problem) {
    ctx.addIssue({
      code: "custom",
      message: problem,
      params: { got: JSON.stringify(value), expected: OWNER_EXPECTED },
    });
  }
});

/** When the stack is to be destroyed; the policy pack requires one on ephemeral stacks. */
const Expiry = z.string().superRefine((value, ctx) => {
  if (!parseExpiry(value)) {
    ctx.addIssue({
      code: "custom",
      message: "is not a time",
      params: { got: JSON.stringify(value), expected: EXPIRY_EXPECTED },
    });
  }
});

const Quantity = z.string().regex(/^\d+(Mi|Gi|Ti)$/, { message: "expected a size such as 10Gi" });

/** CPU as cores or millicores, memory as 16Gi / 512Mi: the plan's environment resources. */
export const ResourcesSpec = EnvironmentSpec.shape.resources.unwrap();

/** An environment of the stack: seed 000's environment shape, without the local-only keys (tools, storage). */
export const StackEnvironmentSpec = EnvironmentSpec.pick({
  name: true,
  region: true,
  max_parallel: true,
  resources: true,
});

/** Every `test-tiers:` key of a stack file. Keys of other namespaces are checked separately. */
export const StackConfigSpec = z.strictObject({
  [key("tier")]: z.enum(TIER_NAMES),
  /** Validated by mode with EksClusterSpec or KubeconfigClusterSpec. */
  [key("cluster")]: z.unknown().optional(),
  [key("regions")]: z.array(z.string().min(1)).min(1).optional(),
  [key("environments")]: z
    .union([
      z.number().int().min(1).max(64),
      z
        .record(
          z.string().regex(ENVIRONMENT_ID, { message: "expected lower case letters, digits, - and _" }),
          StackEnvironmentSpec,
        )
        .refine((m) => Object.keys(m).length > 0, {
          message: "lists no environment; a tier needs at least one",
        }),
    ])
    .optional(),
  [key("network")]: z
    .strictObject({
      vpcCidr: Cidr.optional(),
      availabilityZones: z.number().int().min(AZ_COUNT_RANGE.min).max(AZ_COUNT_RANGE.max).optional(),
      natGateways: z.enum(["single", "perAz"]).optional(),
      /** Region code → id of a VPC to adopt in that region. */
      existingVpcs: z
        .record(z.string(), z.string().regex(/^vpc-[0-9a-f]{8,17}$/, { message: "expected vpc-<hex id>" }))
        .optional(),
    })
    .optional(),
  [key("images")]: z
    .strictObject({ orchestrator: Image.optional(), sut: Image.optional(), adapters: Image.optional() })
    .optional(),
  [key("sut")]: z
    .strictObject({
      port: z.number().int().min(1024).max(65535).optional(),
      replicas: z.number().int().min(1).max(20).optional(),
      healthPath: z
        .string()
        .regex(/^\/\S*$/, { message: "expected a path starting with /" })
        .optional(),
      args: z.array(z.string()).optional(),
      resources: ResourcesSpec.optional(),
    })
    .optional(),
  [key("orchestrator")]: z.strictObject({ storage: Quantity.optional() }).optional(),
  [key("bundles")]: z
    .strictObject({
      expireDays: z.number().int().min(1).max(3650).optional(),
      forceDestroy: z.boolean().optional(),
    })
    .optional(),
  /** Tag `test-tiers:owner` on every AWS resource, annotation on every environment namespace. */
  [key("owner")]: Owner.optional(),
  /** Tag `test-tiers:expires-at` and namespace annotation; ephemeral stacks need one (policy pack). */
  [key("expiresAt")]: Expiry.optional(),
});
export type StackConfigSpec = z.infer<typeof StackConfigSpec>;

export const CLUSTER_MODES = ["eks", "kubeconfig"] as const;

export const EksClusterSpec = z.strictObject({
  mode: z.literal("eks"),
  version: z
    .string()
    .regex(/^1\.\d{2}$/, { message: "expected a Kubernetes minor version such as 1.34" })
    .optional(),
  endpointPublicAccess: z.boolean().optional(),
  publicAccessCidrs: z.array(Cidr).min(1).optional(),
  logTypes: z.array(z.enum(EKS_LOG_TYPES)).min(1).optional(),
  /**
   * IAM principals given cluster-admin through EKS access entries besides the cluster's creator:
   * the CI role that destroys ephemeral stacks, a team's admins. Whoever runs `pulumi destroy` must
   * be able to reach the Kubernetes API to delete the stack's Kubernetes objects.
   */
  accessPrincipals: z
    .array(
      z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\w+=,.@/-]+$/, {
        message: "expected an IAM role or user ARN such as arn:aws:iam::123456789012:role/ci-deployer",
      }),
    )
    .min(1)
    .optional(),
});
export type EksClusterSpec = z.infer<typeof EksClusterSpec>;

export const KubeconfigClusterSpec = z.strictObject({
  mode: z.literal("kubeconfig"),
  /** Path (`~/` expanded) or contents. */
  kubeconfig: z.string().min(1),
  context: z.string().min(1).optional(),
  storageClass: z.string().min(1).optional(),
  /** What the environments share when they do not state their own resources. */
  capacity: ResourcesSpec.optional(),
});
export type KubeconfigClusterSpec = z.infer<typeof KubeconfigClusterSpec>;
