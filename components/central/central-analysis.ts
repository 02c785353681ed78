import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { managedPolicyArn, serviceTrustPolicy } from "../cluster/iam-documents.js";
import { createRegionNetwork } from "../network/region-network.js";
import { argsError } from "../shared/args-error.js";
import { childrenOf } from "../shared/children.js";
import { createPrivateBucket } from "./central-buckets.js";
import {
  importerTaskPolicy,
  inboxBucketPolicy,
  INBOX_PREFIX,
  KEYRING_KEY,
  queuePolicy,
  readSecretsPolicy,
  reportsBucketPolicy,
  REPORTS_PREFIX,
  type InboxWriter,
} from "./central-policies.js";
import { grafanaContainers } from "./grafana-task.js";

export const CENTRAL_ANALYSIS_TYPE = "tiers:central:CentralAnalysis";

export const DATABASE_NAME = "results";
export const DATABASE_USER = "tiers";

export interface CentralDatabaseArgs {
  /** @default "db.t4g.medium" */
  readonly instanceClass?: string;
  /** @default 50 */
  readonly allocatedStorageGiB?: number;
  /** A standby in a second zone (doubles the instance cost). @default false */
  readonly multiAz?: boolean;
  /** Days of automated backups (point-in-time recovery). @default 7 */
  readonly backupRetentionDays?: number;
  /** @default true */
  readonly deletionProtection?: boolean;
  /** @default "16" */
  readonly engineVersion?: string;
}

export interface CentralAnalysisArgs {
  readonly stack: string;
  /** AWS region code; the provider passed with these args must be for the same region. */
  readonly region: string;
  readonly accountId: pulumi.Input<string>;
  readonly network?: { readonly cidr?: string; readonly availabilityZones?: number };
  /** Who may put bundles into the inbox, each under its own environment's prefix only. */
  readonly writers: readonly InboxWriter[];
  /** The keyring of trusted environment keys (`<env> ed25519 <base64>` lines) the importer verifies bundles with. */
  readonly keyring: string;
  readonly database?: CentralDatabaseArgs;
  readonly importer: {
    readonly image: string;
    /** Watchers at once (the leases keep each bundle imported once). @default 2 */
    readonly replicas?: number;
  };
  readonly grafana: { readonly image: string; readonly provisionerImage: string };
  /** Days imported and rejected bundles stay in the inbox. @default 90 */
  readonly inboxRetentionDays?: number;
  /** Days reports stay in the reports bucket. @default 365 */
  readonly reportsRetentionDays?: number;
  /** @default false */
  readonly forceDestroy?: boolean;
}

export interface CentralAnalysisOutputs {
  readonly inboxBucket: pulumi.Output<string>;
  readonly reportsBucket: pulumi.Output<string>;
  readonly queueUrl: pulumi.Output<string>;
  /** `postgres://tiers@<host>:5432/results?sslmode=require`: no password (it is in Secrets Manager). */
  readonly databaseUrl: pulumi.Output<string>;
  readonly databaseSecretArn: pulumi.Output<string>;
  readonly clusterName: pulumi.Output<string>;
  readonly importerService: pulumi.Output<string>;
  readonly grafanaService: pulumi.Output<string>;
  readonly grafanaAdminSecretArn: pulumi.Output<string>;
}

/**
 * The central analysis stack's resources in one region: a private network, the inbox bucket
 * (each environment puts under its own prefix) with notifications to SQS, the reports bucket, RDS
 * PostgreSQL (encrypted, private subnets, backups, credentials in Secrets Manager), and on ECS
 * Fargate the importer service (`tiers central import --watch s3://…` with the report job) and
 * Grafana with the results database as its data source and the dashboards as code.
 */
export class CentralAnalysis extends pulumi.ComponentResource implements CentralAnalysisOutputs {
  public readonly inboxBucket: pulumi.Output<string>;
  public readonly reportsBucket: pulumi.Output<string>;
  public readonly queueUrl: pulumi.Output<string>;
  public readonly databaseUrl: pulumi.Output<string>;
  public readonly databaseSecretArn: pulumi.Output<string>;
  public readonly clusterName: pulumi.Output<string>;
  public readonly importerService: pulumi.Output<string>;
  public readonly grafanaService: pulumi.Output<string>;
  public readonly grafanaAdminSecretArn: pulumi.Output<string>;

  constructor(
    name: string,
    args: CentralAnalysisArgs,
    provider: aws.Provider,
    randomProvider: random.Provider,
    opts: pulumi.ComponentResourceOptions = {},
  ) {
    validateCentralAnalysisArgs(name, args);
    super(CENTRAL_ANALYSIS_TYPE, name, {}, opts);
    const out = createCentralAnalysis(name, args, this, provider, randomProvider);
    this.inboxBucket = out.inboxBucket;
    this.reportsBucket = out.reportsBucket;
    this.queueUrl = out.queueUrl;
    this.databaseUrl = out.databaseUrl;
    this.databaseSecretArn = out.databaseSecretArn;
    this.clusterName = out.clusterName;
    this.importerService = out.importerService;
    this.grafanaService = out.grafanaService;
    this.grafanaAdminSecretArn = out.grafanaAdminSecretArn;
    this.registerOutputs({ ...out });
  }
}

const RESERVED_ENVIRONMENTS = ["imported", "rejected"];

export function validateCentralAnalysisArgs(name: string, args: CentralAnalysisArgs): void {
  const seen = new Set<string>();
  for (const w of args.writers) {
    if (RESERVED_ENVIRONMENTS.includes(w.environment))
      throw argsError(
        CENTRAL_ANALYSIS_TYPE,
        name,
        "writers",
        "names an environment the inbox keeps for itself",
        w.environment,
        "an environment id other than imported and rejected",
      );
    if (!/^arn:aws:iam::\d{12}:role\/[\w+=,.@/-]+$/.test(w.principal))
      throw argsError(
        CENTRAL_ANALYSIS_TYPE,
        name,
        "writers",
        "is not an IAM role ARN",
        w.principal,
        "arn:aws:iam::<account>:role/<name>",
      );
    seen.add(`${w.environment} ${w.principal}`);
  }
  const replicas = args.importer.replicas ?? 2;
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 10)
    throw argsError(CENTRAL_ANALYSIS_TYPE, name, "importer.replicas", "is out of range", replicas, "1 to 10");
}

export function createCentralAnalysis(
  name: string,
  args: CentralAnalysisArgs,
  parent: pulumi.Resource,
  provider: aws.Provider,
  randomProvider: random.Provider,
): CentralAnalysisOutputs {
  const c = childrenOf(parent, name, provider);
  const db = args.database ?? {};
  const forceDestroy = args.forceDestroy ?? false;
  const network = createRegionNetwork(
    `${name}-net`,
    {
      region: args.region,
      cidr: args.network?.cidr ?? "10.40.0.0/16",
      availabilityZones: args.network?.availabilityZones ?? 2,
      natGateways: "single",
    },
    parent,
    provider,
  );
  const prefix = `tiers-${args.stack}`
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .slice(0, 24);

  // Buckets -----------------------------------------------------------------------------------
  const inbox = createPrivateBucket(c, "inbox", {
    bucketPrefix: `${prefix}-inbox-`,
    forceDestroy,
    policy: (arn) => inboxBucketPolicy(arn, args.writers),
    lifecycleRules: [
      {
        id: "expire-moved-bundles",
        status: "Enabled",
        filter: { prefix: INBOX_PREFIX },
        expiration: { days: args.inboxRetentionDays ?? 90 },
        noncurrentVersionExpiration: { noncurrentDays: 7 },
        abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
      },
    ],
  });
  const reports = createPrivateBucket(c, "reports", {
    bucketPrefix: `${prefix}-reports-`,
    forceDestroy,
    policy: reportsBucketPolicy,
    lifecycleRules: [
      {
        id: "expire-reports",
        status: "Enabled",
        filter: { prefix: REPORTS_PREFIX },
        expiration: { days: args.reportsRetentionDays ?? 365 },
        noncurrentVersionExpiration: { noncurrentDays: 7 },
      },
    ],
  });
  new aws.s3.BucketObjectv2(
    c.name("keyring"),
    { bucket: inbox.bucket.id, key: KEYRING_KEY, content: args.keyring, contentType: "text/plain" },
    c.opts({ dependsOn: inbox.ready }),
  );

  // Notifications: S3 → SQS, the watcher's wake-up -------------------------------------------
  const queue = new aws.sqs.Queue(
    c.name("inbox-events"),
    { sqsManagedSseEnabled: true, messageRetentionSeconds: 345_600, visibilityTimeoutSeconds: 60 },
    c.opts(),
  );
  const queueAccess = new aws.sqs.QueuePolicy(
    c.name("inbox-events"),
    {
      queueUrl: queue.url,
      policy: pulumi
        .all([queue.arn, inbox.bucket.arn, args.accountId])
        .apply(([q, b, account]) => queuePolicy(q, b, account)),
    },
    c.opts(),
  );
  new aws.s3.BucketNotification(
    c.name("inbox"),
    {
      bucket: inbox.bucket.id,
      queues: [
        {
          queueArn: queue.arn,
          events: ["s3:ObjectCreated:*"],
          filterPrefix: INBOX_PREFIX,
          filterSuffix: ".tar.gz",
        },
      ],
    },
    c.opts({ dependsOn: [queueAccess] }),
  );

  // Security groups: only the services reach the database ------------------------------------
  const egressAll = [
    {
      protocol: "-1",
      fromPort: 0,
      toPort: 0,
      cidrBlocks: ["0.0.0.0/0"],
      description: "S3, SQS, ECR, logs (via NAT)",
    },
  ];
  const importerSg = new aws.ec2.SecurityGroup(
    c.name("importer"),
    { vpcId: network.vpcId, description: "central importer tasks: no inbound", egress: egressAll },
    c.opts(),
  );
  const grafanaSg = new aws.ec2.SecurityGroup(
    c.name("grafana"),
    {
      vpcId: network.vpcId,
      description: "Grafana: port 3000 from inside the VPC only (reach it through SSM or a VPN)",
      ingress: [
        { protocol: "tcp", fromPort: 3000, toPort: 3000, cidrBlocks: [network.cidr], description: "VPC" },
      ],
      egress: egressAll,
    },
    c.opts(),
  );
  const dbSg = new aws.ec2.SecurityGroup(
    c.name("database"),
    {
      vpcId: network.vpcId,
      description: "central results database: PostgreSQL from the importer and Grafana only",
      ingress: [
        {
          protocol: "tcp",
          fromPort: 5432,
          toPort: 5432,
          securityGroups: [importerSg.id, grafanaSg.id],
          description: "importer, Grafana",
        },
      ],
    },
    c.opts(),
  );

  // The results database -----------------------------------------------------------------------
  const subnets = new aws.rds.SubnetGroup(
    c.name("database"),
    { subnetIds: network.privateSubnetIds, description: "private subnets of the central VPC" },
    c.opts(),
  );
  const database = new aws.rds.Instance(
    c.name("results"),
    {
      identifierPrefix: `${prefix}-results-`,
      engine: "postgres",
      engineVersion: db.engineVersion ?? "16",
      instanceClass: db.instanceClass ?? "db.t4g.medium",
      allocatedStorage: db.allocatedStorageGiB ?? 50,
      storageType: "gp3",
      storageEncrypted: true,
      dbName: DATABASE_NAME,
      username: DATABASE_USER,
      // The master password is made, kept and rotated by Secrets Manager: it is never in the program or the state.
      manageMasterUserPassword: true,
      dbSubnetGroupName: subnets.name,
      vpcSecurityGroupIds: [dbSg.id],
      publiclyAccessible: false,
      multiAz: db.multiAz ?? false,
      backupRetentionPeriod: db.backupRetentionDays ?? 7,
      deletionProtection: db.deletionProtection ?? true,
      skipFinalSnapshot: forceDestroy,
      finalSnapshotIdentifier: forceDestroy ? undefined : `${prefix}-results-final`,
      copyTagsToSnapshot: true,
      autoMinorVersionUpgrade: true,
      performanceInsightsEnabled: true,
    },
    c.opts(),
  );
  const databaseSecretArn = database.masterUserSecrets.apply((s) => s[0]?.secretArn ?? "");
  const databaseUrl = pulumi.interpolate`postgres://${DATABASE_USER}@${database.address}:${database.port}/${DATABASE_NAME}?sslmode=require`;

  const grafanaAdmin = new random.RandomPassword(
    c.name("grafana-admin"),
    { length: 32, special: false },
    c.optsWith(randomProvider),
  );
  const grafanaSecret = new aws.secretsmanager.Secret(
    c.name("grafana-admin"),
    { namePrefix: `${prefix}-grafana-admin-`, description: "Grafana admin password of the central stack" },
    c.opts(),
  );
  new aws.secretsmanager.SecretVersion(
    c.name("grafana-admin"),
    { secretId: grafanaSecret.id, secretString: grafanaAdmin.result },
    c.opts(),
  );

  // ECS on Fargate -----------------------------------------------------------------------------
  const cluster = new aws.ecs.Cluster(
    c.name("central"),
    { settings: [{ name: "containerInsights", value: "enabled" }] },
    c.opts(),
  );
  const logs = new aws.cloudwatch.LogGroup(c.name("central"), { retentionInDays: 30 }, c.opts());
  const execution = new aws.iam.Role(
    c.name("task-execution"),
    {
      assumeRolePolicy: serviceTrustPolicy("ecs-tasks.amazonaws.com"),
      description: "central stack: pull images, write logs, read the task secrets",
    },
    c.opts(),
  );
  new aws.iam.RolePolicyAttachment(
    c.name("task-execution"),
    { role: execution.name, policyArn: managedPolicyArn("service-role/AmazonECSTaskExecutionRolePolicy") },
    c.opts(),
  );
  new aws.iam.RolePolicy(
    c.name("task-execution-secrets"),
    {
      role: execution.id,
      policy: pulumi.all([databaseSecretArn, grafanaSecret.arn]).apply((arns) => readSecretsPolicy(arns)),
    },
    c.opts(),
  );
  const importerRole = new aws.iam.Role(
    c.name("importer"),
    {
      assumeRolePolicy: serviceTrustPolicy("ecs-tasks.amazonaws.com"),
      description: "central importer: inbox, reports, notifications",
    },
    c.opts(),
  );
  new aws.iam.RolePolicy(
    c.name("importer"),
    {
      role: importerRole.id,
      policy: pulumi
        .all([inbox.bucket.arn, reports.bucket.arn, queue.arn])
        .apply(([i, r, q]) => importerTaskPolicy(i, r, q)),
    },
    c.opts(),
  );
  const grafanaRole = new aws.iam.Role(
    c.name("grafana"),
    {
      assumeRolePolicy: serviceTrustPolicy("ecs-tasks.amazonaws.com"),
      description: "central Grafana: no AWS permissions",
    },
    c.opts(),
  );
  const logConfig = (streamPrefix: string) => ({
    logDriver: "awslogs",
    options: {
      "awslogs-group": logs.name,
      "awslogs-region": args.region,
      "awslogs-stream-prefix": streamPrefix,
    },
  });
  const passwordFrom = (arn: pulumi.Output<string>) => arn.apply((a) => `${a}:password::`);

  const importerTask = new aws.ecs.TaskDefinition(
    c.name("importer"),
    {
      family: `${prefix}-importer`,
      requiresCompatibilities: ["FARGATE"],
      networkMode: "awsvpc",
      cpu: "1024",
      memory: "4096",
      runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "ARM64" },
      executionRoleArn: execution.arn,
      taskRoleArn: importerRole.arn,
      containerDefinitions: pulumi
        .all([
          inbox.bucket.bucket,
          reports.bucket.bucket,
          queue.url,
          databaseUrl,
          passwordFrom(databaseSecretArn),
          logs.name,
        ])
        .apply(([inboxName, reportsName, queueUrl, url, passwordArn]) =>
          JSON.stringify([
            {
              name: "importer",
              image: args.importer.image,
              essential: true,
              command: [
                "central",
                "import",
                "--watch",
                `s3://${inboxName}/${INBOX_PREFIX}`,
                "--keyring",
                `s3://${inboxName}/${KEYRING_KEY}`,
                "--reports",
                `s3://${reportsName}/${REPORTS_PREFIX}`,
                "--queue",
                queueUrl,
              ],
              readonlyRootFilesystem: true,
              user: "1000:1000",
              environment: [
                { name: "TIERS_DB_URL", value: url },
                { name: "AWS_REGION", value: args.region },
              ],
              // pg reads PGPASSWORD when the URL has none.
              secrets: [{ name: "PGPASSWORD", valueFrom: passwordArn }],
              mountPoints: [{ sourceVolume: "scratch", containerPath: "/tmp" }],
              logConfiguration: logConfig("importer"),
            },
          ]),
        ),
      volumes: [{ name: "scratch" }],
    },
    c.opts(),
  );
  const importer = new aws.ecs.Service(
    c.name("importer"),
    {
      cluster: cluster.arn,
      taskDefinition: importerTask.arn,
      desiredCount: args.importer.replicas ?? 2,
      launchType: "FARGATE",
      networkConfiguration: {
        subnets: network.privateSubnetIds,
        securityGroups: [importerSg.id],
        assignPublicIp: false,
      },
      deploymentCircuitBreaker: { enable: true, rollback: true },
      propagateTags: "SERVICE",
    },
    c.opts({ dependsOn: [database] }),
  );

  const grafanaTask = new aws.ecs.TaskDefinition(
    c.name("grafana"),
    {
      family: `${prefix}-grafana`,
      requiresCompatibilities: ["FARGATE"],
      networkMode: "awsvpc",
      cpu: "512",
      memory: "1024",
      runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "ARM64" },
      executionRoleArn: execution.arn,
      taskRoleArn: grafanaRole.arn,
      containerDefinitions: pulumi
        .all([database.address, database.port, passwordFrom(databaseSecretArn), grafanaSecret.arn])
        .apply(([host, port, passwordArn, adminArn]) =>
          JSON.stringify(
            grafanaContainers({
              image: args.grafana.image,
              provisionerImage: args.grafana.provisionerImage,
              databaseHost: `${host}:${port}`,
              databaseName: DATABASE_NAME,
              databaseUser: DATABASE_USER,
              databasePasswordFrom: passwordArn,
              adminPasswordFrom: adminArn,
              logConfiguration: logConfig,
            }),
          ),
        ),
      volumes: [{ name: "provisioning" }, { name: "dashboards" }, { name: "grafana-data" }],
    },
    c.opts(),
  );
  const grafana = new aws.ecs.Service(
    c.name("grafana"),
    {
      cluster: cluster.arn,
      taskDefinition: grafanaTask.arn,
      desiredCount: 1,
      launchType: "FARGATE",
      networkConfiguration: {
        subnets: network.privateSubnetIds,
        securityGroups: [grafanaSg.id],
        assignPublicIp: false,
      },
      deploymentCircuitBreaker: { enable: true, rollback: true },
      propagateTags: "SERVICE",
      enableExecuteCommand: false,
    },
    c.opts({ dependsOn: [database] }),
  );

  return {
    inboxBucket: inbox.bucket.bucket,
    reportsBucket: reports.bucket.bucket,
    queueUrl: queue.url,
    databaseUrl,
    databaseSecretArn,
    clusterName: cluster.name,
    importerService: importer.name,
    grafanaService: grafana.name,
    grafanaAdminSecretArn: grafanaSecret.arn,
  };
}
