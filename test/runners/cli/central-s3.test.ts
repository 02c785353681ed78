/**
 * `tiers central import --watch s3://…` end to end, as the central stack's importer service runs
 * it: two watcher processes on one inbox in a real S3 API server on loopback (s3rver) and one
 * results database; a bundle dropped into the inbox (as `aws s3 cp` would) appears in the
 * database, under imported/, and as reports in the reports bucket; a refused one ends under
 * rejected/ with its reason. No SQS queue: the watchers say they poll.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { execa, type ResultPromise } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listObjects } from "../../../workloads/bundle/s3-store.js";
import { openCentralDb } from "../../../workloads/central/db/connect.js";
import { generateAndWrite, makeKeys, type TestEnvironmentKeys } from "../../support/bundles.js";
import { startS3Server, type S3TestServer } from "../../support/s3-server.js";
import { tempDir } from "../../support/temp.js";
import { waitFor } from "../../workloads/support/wait.js";

const CLI = join(import.meta.dirname, "..", "..", "..", "bin", "tiers.js");
const INBOX = "tiers-central-inbox";
const REPORTS = "tiers-central-reports";

let dir: Awaited<ReturnType<typeof tempDir>>;
let s3: S3TestServer;
let keys: TestEnvironmentKeys;
const watchers: ResultPromise[] = [];

beforeAll(async () => {
  dir = await tempDir();
  s3 = await startS3Server([INBOX, REPORTS]);
  keys = await makeKeys(dir.path);
});
afterAll(async () => {
  for (const w of watchers) w.kill("SIGKILL");
  await Promise.allSettled(watchers);
  await s3?.close();
  await dir?.remove();
});

function startWatcher(keyring: string): { proc: ResultPromise; output: () => string } {
  const proc = execa(
    process.execPath,
    [
      CLI,
      "central",
      "import",
      "--watch",
      `s3://${INBOX}/inbox/`,
      "--reports",
      `s3://${REPORTS}/reports/`,
      "--poll-ms",
      "100",
      "--db",
      join(dir.path, "central.db"),
      "--keyring",
      keyring,
    ],
    {
      reject: false,
      cwd: dir.path,
      env: {
        AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
        AWS_REGION: s3.region,
        AWS_ENDPOINT_URL_S3: s3.endpoint,
        TIERS_S3_FORCE_PATH_STYLE: "true",
        TIERS_INBOX_QUEUE_URL: "",
      },
    },
  );
  watchers.push(proc);
  let out = "";
  proc.stdout.on("data", (c: Buffer) => (out += c.toString()));
  return { proc, output: () => out };
}

describe("the central importer service on an S3 inbox", () => {
  it("imports a dropped bundle once across two watchers, reports it, and rejects a refused one with its reason", async () => {
    // One reads the keyring from the bucket, as the stack's service does; the other from a file.
    await s3.client().send(
      new PutObjectCommand({
        Bucket: INBOX,
        Key: "config/keyring",
        Body: await readFile(keys.keyringPath),
      }),
    );
    const a = startWatcher(`s3://${INBOX}/config/keyring`);
    const b = startWatcher(keys.keyringPath);
    for (const w of [a, b])
      await waitFor("the watcher to start", () => /^watching /m.test(w.output()), 60_000);
    expect(a.output()).toContain(
      `watching s3://${INBOX}/inbox/ (imported/ and rejected/ beside it): no queue configured, polling every 100 ms; reports to s3://${REPORTS}/reports/<cycle>/`,
    );

    const bundle = await generateAndWrite(
      { tier: "base", cycleId: "c-drop", timeScale: 0.01 },
      keys.key,
      join(dir.path, "out"),
    );
    const client = s3.client();
    // A plain PUT, as `aws s3 cp` (no sha256 metadata: the bundle's own seal is what is checked).
    await client.send(
      new PutObjectCommand({
        Bucket: INBOX,
        Key: "inbox/env-1/c-drop.tar.gz",
        Body: await readFile(bundle.path),
      }),
    );
    await client.send(
      new PutObjectCommand({ Bucket: INBOX, Key: "inbox/env-1/broken.tar.gz", Body: "not gzip" }),
    );

    const keysNow = async () => (await listObjects(client, INBOX, "inbox/")).map((o) => o.key).sort();
    await waitFor(
      "both objects to be moved",
      async () =>
        JSON.stringify(await keysNow()) ===
        JSON.stringify([
          "inbox/imported/env-1/c-drop.tar.gz",
          "inbox/rejected/env-1/broken.tar.gz",
          "inbox/rejected/env-1/broken.tar.gz.reason.txt",
        ]),
      60_000,
    );
    await waitFor(
      "the reports",
      async () => (await listObjects(client, REPORTS, "reports/c-drop/")).length === 4,
      60_000,
    );
    // The line comes after the last report's PUT.
    await waitFor("the report line", () => /^reported /m.test(a.output() + b.output()), 60_000);
    const all = a.output() + b.output();
    expect(all.match(/^imported {2}s3:\/\/\S+\/inbox\/env-1\/c-drop\.tar\.gz /gm)).toHaveLength(1);
    expect(all).not.toMatch(/^unchanged /m);
    expect(
      all.match(/^refused {3}s3:\/\/\S+\/inbox\/env-1\/broken\.tar\.gz {2}\(corrupt_gzip\)/gm),
    ).toHaveLength(1);
    expect(all.match(/^reported {2}cycle c-drop → /gm)).toHaveLength(1);

    expect((await listObjects(client, REPORTS, "reports/")).map((o) => o.key).sort()).toStrictEqual([
      "reports/c-drop/junit.xml",
      "reports/c-drop/report.html",
      "reports/c-drop/report.json",
      "reports/c-drop/report.md",
    ]);
    const json = JSON.parse(
      await (
        await client.send(new GetObjectCommand({ Bucket: REPORTS, Key: "reports/c-drop/report.json" }))
      ).Body!.transformToString(),
    ) as { cycle: { cycle_id: string } };
    expect(json.cycle.cycle_id).toBe("c-drop");
    const reason = await (
      await client.send(
        new GetObjectCommand({ Bucket: INBOX, Key: "inbox/rejected/env-1/broken.tar.gz.reason.txt" }),
      )
    ).Body!.transformToString();
    expect(reason).toMatch(
      /^reason: corrupt_gzip\nmessage: .+\nfile: s3:\/\/tiers-central-inbox\/inbox\/env-1\/broken\.tar\.gz\n/,
    );

    const cdb = await openCentralDb(join(dir.path, "central.db"));
    try {
      const rows = await cdb.db.selectFrom("bundles").select(["cycle_id", "bundle_id"]).execute();
      expect(rows).toStrictEqual([{ cycle_id: "c-drop", bundle_id: bundle.manifest.bundle_id }]);
    } finally {
      await cdb.close();
    }

    for (const w of [a, b]) w.proc.kill("SIGTERM");
    const ended = await Promise.all([a.proc, b.proc]);
    expect(ended.map((e) => e.exitCode)).toStrictEqual([130, 130]);
    expect(ended.map((e) => String(e.stdout).trimEnd().split("\n").at(-1))).toStrictEqual([
      "stopped watching",
      "stopped watching",
    ]);
  });
});
