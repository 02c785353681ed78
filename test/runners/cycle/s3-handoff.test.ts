/**
 * The EKS hand-off for real, short of AWS: a real orchestrator process uploads its bundle to its
 * environment's prefix of a real S3 API server (s3rver on loopback) as its environment.json says;
 * the runner's S3 bundle source downloads it into the inbox, and the centre imports it. An object
 * changed in the bucket, or reported outside the environment's prefix, is refused.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { s3BundleSource } from "../../../runners/cycle/bundle-source.js";
import { driveCycle, type EnvironmentHandle } from "../../../runners/cycle/drive.js";
import { importAndReport, retrieveBundles, writeRunKeyring } from "../../../runners/cycle/handoff.js";
import type { BundleInfo } from "../../../runners/cycle/orchestrator-client.js";
import { openCentralDb, type CentralDb } from "../../../workloads/central/db/connect.js";
import { migrateToLatest } from "../../../workloads/central/db/migrate.js";
import { serveEnvironment, testPlan, type ServedEnvironment } from "../../helpers/orchestrator.js";
import { startS3Server, type S3TestServer } from "../../support/s3-server.js";
import { tempDir } from "../../support/temp.js";

const BUCKET = "tiers-stress-us-east-1-bundles";
const PREFIX = "bundles/env-1/";
const plan = testPlan({ tier: "base", time_scale: "0.004", load_scale: "0.2" });

let s3: S3TestServer;
let dir: { path: string; remove: () => Promise<void> };
let env: ServedEnvironment;
let handle: EnvironmentHandle;
let cdb: CentralDb;
beforeAll(async () => {
  s3 = await startS3Server([BUCKET]);
  dir = await tempDir("tiers-s3-handoff-");
  const environmentFile = join(dir.path, "environment.json");
  await writeFile(
    environmentFile,
    JSON.stringify({
      stack: "stress",
      tier: "base",
      region: "us-east-1",
      role: "primary",
      environment: "env-1",
      bundles: { kind: "s3", bucket: BUCKET, prefix: PREFIX, region: "us-east-1" },
    }),
  );
  env = await serveEnvironment("env-1", {
    env: {
      ...process.env,
      TIERS_ENVIRONMENT_CONFIG: environmentFile,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
      AWS_REGION: s3.region,
    },
  });
  handle = {
    id: "env-1",
    region: plan.environments[0]!.region,
    client: env.client(),
    lost: new Promise<string>(() => undefined),
    bundles: s3BundleSource(() => Promise.resolve(s3.client()), BUCKET, PREFIX),
  };
  cdb = await openCentralDb(join(dir.path, "results.db"), { create: true });
  await migrateToLatest(cdb);
});
afterAll(async () => {
  await cdb?.close();
  await env?.cleanup();
  await s3?.close();
  await dir?.remove();
});

describe("bundles through S3: orchestrator upload, runner download, central import", () => {
  it("hands the bundle the orchestrator uploaded to the centre, which imports it", async () => {
    const views = await driveCycle({
      plan,
      environments: [handle],
      cycleId: "s3-run-1",
      signal: new AbortController().signal,
      pollMs: 200,
    });
    // Completed, or aborted by a gate on a loaded machine: either way the cycle ended and exports.
    expect(["completed", "aborted"]).toContain(views[0]!.status?.state);
    const inbox = join(dir.path, "inbox");
    const lines: string[] = [];
    const got = await retrieveBundles([handle], views, inbox, (l) => lines.push(l));
    expect(got.problems).toStrictEqual(new Map());
    expect(lines).toStrictEqual([
      expect.stringMatching(
        new RegExp(
          `^env-1: bundle [0-9a-f-]{12} \\(\\d+ bytes\\) from s3://${BUCKET}/${PREFIX} handed over to `,
        ),
      ),
    ]);
    // The object is in the environment's prefix, put there by the orchestrator, not by the runner.
    expect(s3.events).toStrictEqual([
      { eventName: "ObjectCreated:Put", bucket: BUCKET, key: `${PREFIX}env-1-s3-run-1.tar.gz` },
    ]);
    const keyringFile = join(dir.path, "keyring");
    await writeRunKeyring(keyringFile, "s3-run-1", [(await handle.client.publicKey()).keyring_line]);
    const central = await importAndReport(cdb, {
      inbox,
      keyringFile,
      cycleId: "s3-run-1",
      reportDir: dir.path,
      formats: ["json"],
    });
    expect(central.events.map((e) => e.kind)).toStrictEqual(["imported"]);
    expect(central.report?.environments.map((e) => e.environment_id)).toStrictEqual(["env-1"]);
  });

  it("refuses an object changed in the bucket after upload, and a location outside the environment's prefix", async () => {
    const info = await handle.client.exportBundle("s3-run-1");
    expect(info.location).toStrictEqual({
      kind: "s3",
      bucket: BUCKET,
      key: `${PREFIX}env-1-s3-run-1.tar.gz`,
      region: "us-east-1",
    });
    // Exported again: the same object, not uploaded twice.
    expect(s3.events.filter((e) => e.eventName.startsWith("ObjectCreated"))).toHaveLength(1);
    await s3.client().send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: info.location!.key,
        Body: "not the bundle",
        Metadata: { sha256: info.sha256 },
      }),
    );
    const to = join(dir.path, "tampered.tar.gz");
    await expect(handle.bundles!.fetch(handle.client, info, to)).rejects.toThrow(
      /^bundle refused \(checksum_mismatch\): s3:\/\/.+\/bundles\/env-1\/env-1-s3-run-1\.tar\.gz: its bytes hash to/,
    );
    const elsewhere: BundleInfo = {
      ...info,
      location: { ...info.location!, key: "bundles/env-2/env-2-s3-run-1.tar.gz" },
    };
    await expect(handle.bundles!.fetch(handle.client, elsewhere, to)).rejects.toThrow(
      `bundle refused (unsafe_path): bundle ${info.bundle_id} is reported at s3://${BUCKET}/bundles/env-2/env-2-s3-run-1.tar.gz, outside the environment's s3://${BUCKET}/${PREFIX}`,
    );
  });
});
