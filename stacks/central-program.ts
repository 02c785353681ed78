/**
 * The central analysis stack's program (`test-tiers:program: central` in the stack file): config
 * validated completely first, then one region's CentralAnalysis. Tier stacks never set the key and
 * run `runTierProgram`.
 */
import * as aws from "@pulumi/aws";
import * as random from "@pulumi/random";
import { z } from "zod";
import { ConfigError } from "../tiers/config/issues.js";
import { validateSource } from "../tiers/config/validate.js";
import type { YamlSource } from "../tiers/config/yaml-source.js";
import { CENTRAL_TIER } from "../tiers/infra/identity.js";
import { ENVIRONMENT_ID } from "../tiers/schema/names.js";
import { CentralAnalysis } from "../components/central/central-analysis.js";
import { awsTags } from "../components/shared/labels.js";
import { Cidr, Image, key, Owner } from "./config/schema.js";
import { StackConfigError, type StackOutputs } from "./program.js";

export const CENTRAL_PROGRAM = "central";

export const DEFAULT_CENTRAL_IMAGES = {
  importer: "ghcr.io/test-tiers/orchestrator:0.1.0",
  grafana: "docker.io/grafana/grafana-oss:12.3.0",
  provisioner: "docker.io/library/busybox:1.37.0",
} as const;

const RoleArn = z.string().regex(/^arn:aws:iam::\d{12}:role\/[\w+=,.@/-]+$/, {
  message: "expected an IAM role ARN (arn:aws:iam::<account>:role/<name>)",
});

export const CentralSpec = z.strictObject({
  region: z.string().min(1),
  /** AWS account the stack deploys into (the queue accepts notifications from its own buckets only). */
  accountId: z.string().regex(/^\d{12}$/, { message: "expected a 12-digit AWS account id" }),
  vpcCidr: Cidr.optional(),
  availabilityZones: z.number().int().min(2).max(6).optional(),
  writers: z
    .array(
      z.strictObject({
        environment: z.string().regex(ENVIRONMENT_ID, { message: "expected an environment id" }),
        principal: RoleArn,
      }),
    )
    .min(1),
  /** The trusted environment keys, keyring lines (`<env> ed25519 <base64>`). */
  keyring: z.string().regex(/^(\s*(#.*)?\n|\s*[\w*-]+ ed25519 [A-Za-z0-9+/=]+( .*)?\n)+$/, {
    message: "expected keyring lines: <environment or *> ed25519 <base64 public key> [comment], one a line",
  }),
  database: z
    .strictObject({
      instanceClass: z
        .string()
        .regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/)
        .optional(),
      allocatedStorageGiB: z.number().int().min(20).max(65536).optional(),
      multiAz: z.boolean().optional(),
      backupRetentionDays: z.number().int().min(1).max(35).optional(),
      deletionProtection: z.boolean().optional(),
      engineVersion: z
        .string()
        .regex(/^\d+(\.\d+)?$/)
        .optional(),
    })
    .optional(),
  importerReplicas: z.number().int().min(1).max(10).optional(),
  images: z
    .strictObject({ importer: Image.optional(), grafana: Image.optional(), provisioner: Image.optional() })
    .optional(),
  inboxRetentionDays: z.number().int().min(1).max(3650).optional(),
  reportsRetentionDays: z.number().int().min(1).max(3650).optional(),
  forceDestroy: z.boolean().optional(),
});

const CentralStackSpec = z.strictObject({
  [key("program")]: z.literal(CENTRAL_PROGRAM),
  [key("owner")]: Owner,
  [key("central")]: CentralSpec,
});

/** Whether a stack's config asks for the central program. */
export function isCentralStack(config: Readonly<Record<string, unknown>>): boolean {
  return config[key("program")] === CENTRAL_PROGRAM;
}

export function runCentralProgram(stack: string, source: YamlSource): StackOutputs {
  const data = Object.fromEntries(
    Object.entries((source.data ?? {}) as Record<string, unknown>).filter(([k]) => !k.startsWith("pulumi:")),
  );
  const r = validateSource(CentralStackSpec, { ...source, data });
  if (!r.value)
    throw new StackConfigError(new ConfigError(r.issues, `invalid stack configuration in ${source.file}`));
  const owner = r.value[key("owner")];
  const spec = r.value[key("central")];
  const images = { ...DEFAULT_CENTRAL_IMAGES, ...spec.images };
  const provider = new aws.Provider(`central-aws-${spec.region}`, {
    region: spec.region as aws.Region,
    defaultTags: {
      tags: awsTags({ stack, tier: CENTRAL_TIER, region: spec.region, roles: ["central"], owner }),
    },
  });
  const randomProvider = new random.Provider("central-random", {});
  const central = new CentralAnalysis(
    "central",
    {
      stack,
      region: spec.region,
      accountId: spec.accountId,
      network: {
        ...(spec.vpcCidr !== undefined ? { cidr: spec.vpcCidr } : {}),
        ...(spec.availabilityZones !== undefined ? { availabilityZones: spec.availabilityZones } : {}),
      },
      writers: spec.writers,
      keyring: spec.keyring,
      ...(spec.database ? { database: spec.database } : {}),
      importer: {
        image: images.importer,
        ...(spec.importerReplicas ? { replicas: spec.importerReplicas } : {}),
      },
      grafana: { image: images.grafana, provisionerImage: images.provisioner },
      ...(spec.inboxRetentionDays ? { inboxRetentionDays: spec.inboxRetentionDays } : {}),
      ...(spec.reportsRetentionDays ? { reportsRetentionDays: spec.reportsRetentionDays } : {}),
      ...(spec.forceDestroy !== undefined ? { forceDestroy: spec.forceDestroy } : {}),
    },
    provider,
    randomProvider,
  );
  return {
    stack,
    program: CENTRAL_PROGRAM,
    region: spec.region,
    inboxBucket: central.inboxBucket,
    inboxPrefix: "inbox/",
    reportsBucket: central.reportsBucket,
    queueUrl: central.queueUrl,
    databaseUrl: central.databaseUrl,
    databaseSecretArn: central.databaseSecretArn,
    clusterName: central.clusterName,
    importerService: central.importerService,
    grafanaService: central.grafanaService,
    grafanaAdminSecretArn: central.grafanaAdminSecretArn,
  };
}
