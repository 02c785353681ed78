/**
 * The central analysis stack's offline graph (stacks/Pulumi.central.yaml under Pulumi's mock
 * runtime): the database, the inbox and its notifications, the importer and Grafana, with the
 * inputs that make them private, encrypted and least-privileged; and its config refused with
 * positioned messages when wrong.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { captureStack } from "../../runners/infra/capture.js";
import { SECRET_MARKER, type CapturedGraph, type CapturedResource } from "../../runners/infra/graph.js";
import { inboxPolicyProblems } from "../../policies/rules/s3-inbox-writers.js";
import { DASHBOARDS } from "../../workloads/central/grafana/dashboards.js";

let graph: CapturedGraph;
let multiAz: CapturedGraph;
let bad: CapturedGraph;

const one = (g: CapturedGraph, type: string, name?: string): CapturedResource => {
  const found = g.resources.filter((r) => r.type === type && (name === undefined || r.name === name));
  expect(found, `${type} ${name ?? ""}`).toHaveLength(1);
  return found[0]!;
};

beforeAll(async () => {
  const central = {
    region: "us-east-1",
    accountId: "123456789012",
    writers: [{ environment: "stress-1", principal: "arn:aws:iam::123456789012:role/w1" }],
    keyring: "stress-1 ed25519 AAAA placeholder\n",
  };
  [graph, multiAz, bad] = await Promise.all([
    captureStack("central"),
    captureStack("central", {
      overrides: {
        "test-tiers:central": { ...central, database: { multiAz: true, backupRetentionDays: 14 } },
      },
    }),
    captureStack("central", {
      overrides: {
        "test-tiers:central": {
          ...central,
          writers: [{ environment: "Stress 1", principal: "arn:aws:iam::1:user/x" }],
          database: { backupRetentionDays: 0 },
          images: { grafana: "grafana/grafana:latest" },
        },
      },
    }),
  ]);
}, 240_000);

describe("the central stack", () => {
  it("registers the database, inbox, importer and Grafana, every AWS resource with the stack's one AWS provider", () => {
    expect(graph.error).toBeUndefined();
    const providers = graph.resources.filter((r) => r.type === "pulumi:providers:aws");
    expect(providers.map((p) => p.name)).toStrictEqual(["central-aws-us-east-1"]);
    for (const r of graph.resources.filter((r) => r.custom && r.type.startsWith("aws:")))
      expect(r.provider, r.urn).toBe(providers[0]!.urn);
    expect(one(graph, "aws:ecs/service:Service", "central-importer").inputs.desiredCount).toBe(2);
    one(graph, "aws:ecs/service:Service", "central-grafana");
  });

  it("keeps the database encrypted, private, backed up, its password in Secrets Manager only", () => {
    const db = one(graph, "aws:rds/instance:Instance").inputs;
    expect(db).toMatchObject({
      engine: "postgres",
      storageEncrypted: true,
      publiclyAccessible: false,
      manageMasterUserPassword: true,
      multiAz: false,
      backupRetentionPeriod: 7,
      deletionProtection: true,
    });
    expect(db).not.toHaveProperty("password");
    const group = one(graph, "aws:rds/subnetGroup:SubnetGroup");
    const privateSubnets = graph.resources
      .filter((r) => r.type === "aws:ec2/subnet:Subnet" && r.name.includes("-private-"))
      .map((r) => r.urn);
    expect(privateSubnets).toHaveLength(2);
    expect([...(group.propertyDependencies.subnetIds ?? [])].sort()).toStrictEqual(privateSubnets.sort());
    expect(one(multiAz, "aws:rds/instance:Instance").inputs).toMatchObject({
      multiAz: true,
      backupRetentionPeriod: 14,
    });
    // The database URL the stack exports names no password.
    expect((graph.outputs as { databaseUrl: string }).databaseUrl).toMatch(
      /^postgres:\/\/tiers@[^:@/]+\.rds\.amazonaws\.com:5432\/results\?sslmode=require$/,
    );
  });

  it("lets each writer put only under its own inbox prefix, and wires the inbox's notifications to the queue", () => {
    const policies = graph.resources.filter((r) => r.type === "aws:s3/bucketPolicy:BucketPolicy");
    const inbox = policies.find((p) => p.name === "central-inbox")!;
    const doc = JSON.parse(inbox.inputs.policy as string) as { Statement: Record<string, unknown>[] };
    expect(doc.Statement.filter((s) => s.Effect === "Allow")).toStrictEqual([
      {
        Sid: "PutOwnPrefix0",
        Effect: "Allow",
        Principal: { AWS: "arn:aws:iam::123456789012:role/tiers-stress-1-writer" },
        Action: "s3:PutObject",
        Resource: expect.stringMatching(
          /^arn:aws:s3:::tiers-central-inbox-\S+\/inbox\/stress-1\/\*$/,
        ) as unknown,
      },
      {
        Sid: "PutOwnPrefix1",
        Effect: "Allow",
        Principal: { AWS: "arn:aws:iam::123456789012:role/tiers-stress-2-writer" },
        Action: "s3:PutObject",
        Resource: expect.stringMatching(/\/inbox\/stress-2\/\*$/) as unknown,
      },
    ]);
    expect(inboxPolicyProblems(inbox.inputs.policy as string)).toStrictEqual([]);
    const notification = one(graph, "aws:s3/bucketNotification:BucketNotification");
    expect(notification.inputs.queues).toStrictEqual([
      {
        queueArn: expect.stringMatching(
          /^arn:aws:sqs:us-east-1:123456789012:central-inbox-events-/,
        ) as unknown,
        events: ["s3:ObjectCreated:*"],
        filterPrefix: "inbox/",
        filterSuffix: ".tar.gz",
      },
    ]);
  });

  it("runs the importer on the inbox with the report job, its database password from Secrets Manager", () => {
    const task = one(graph, "aws:ecs/taskDefinition:TaskDefinition", "central-importer");
    const [importer] = JSON.parse(task.inputs.containerDefinitions as string) as Record<string, unknown>[];
    const command = importer!.command as string[];
    expect(command.slice(0, 3)).toStrictEqual(["central", "import", "--watch"]);
    expect(command[3]).toMatch(/^s3:\/\/tiers-central-inbox-\S+\/inbox\/$/);
    expect(command).toContain("--reports");
    expect(command).toContain("--queue");
    expect(importer!.secrets).toStrictEqual([
      {
        name: "PGPASSWORD",
        valueFrom: expect.stringMatching(/^arn:aws:secretsmanager:.+:password::$/) as unknown,
      },
    ]);
    const service = one(graph, "aws:ecs/service:Service", "central-importer").inputs;
    expect(service.launchType).toBe("FARGATE");
    expect((service.networkConfiguration as { assignPublicIp: boolean }).assignPublicIp).toBe(false);
  });

  it("provisions Grafana with the results database and every dashboard, no password in plain text", () => {
    const task = one(graph, "aws:ecs/taskDefinition:TaskDefinition", "central-grafana");
    const text = task.inputs.containerDefinitions as string;
    const [provision, grafana] = JSON.parse(text) as Record<string, unknown>[];
    const env = Object.fromEntries(
      (provision!.environment as { name: string; value: string }[]).map((e) => [e.name, e.value]),
    );
    expect(env.DATASOURCE).toContain("password: $__env{TIERS_DB_PASSWORD}");
    expect(env.DATASOURCE).toMatch(/url: \S+\.rds\.amazonaws\.com:5432/);
    for (const [i, d] of DASHBOARDS.entries())
      expect(JSON.parse(env[`DASHBOARD_${i}`]!)).toMatchObject({ uid: d.uid });
    expect((grafana!.secrets as { name: string }[]).map((s) => s.name).sort()).toStrictEqual([
      "GF_SECURITY_ADMIN_PASSWORD",
      "TIERS_DB_PASSWORD",
    ]);
    const version = one(graph, "aws:secretsmanager/secretVersion:SecretVersion");
    expect(version.inputs.secretString).toBe(SECRET_MARKER);
  });

  it("refuses a bad central config with every problem, positioned, before any resource", () => {
    expect(bad.resources).toStrictEqual([]);
    const messages = (bad.error?.issues ?? []).map((i) => `${i.path} ${i.message}`).sort();
    expect(messages).toStrictEqual([
      "test-tiers:central.database.backupRetentionDays too small",
      "test-tiers:central.images.grafana the image uses the latest tag, which is not a pinned version",
      "test-tiers:central.writers[0].environment does not match the required format",
      "test-tiers:central.writers[0].principal does not match the required format",
    ]);
    const principal = bad.error!.issues!.find((i) => i.path.endsWith("principal"))!;
    expect(principal.file).toBe("stacks/Pulumi.central.yaml");
  });
});
