/** `tiers central import --watch s3://…`: the central stack's importer service. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadKeyring, type Keyring } from "../../../workloads/bundle/keyring.js";
import { downloadVerified } from "../../../workloads/bundle/s3-store.js";
import type { CentralDb } from "../../../workloads/central/db/connect.js";
import type { InboxEvent } from "../../../workloads/central/import/inbox.js";
import { centralS3Client, centralSqsClient } from "../../../workloads/central/import/s3-client.js";
import { parseS3Url, watchS3Inbox } from "../../../workloads/central/import/s3-inbox.js";
import { sqsNotifications } from "../../../workloads/central/import/s3-notifications.js";
import { publishCycleReports } from "../../../workloads/central/reports/publish.js";
import type { ImportFlags } from "./central.js";

export interface WatchS3Context {
  readonly keyring: Keyring;
  readonly signal: AbortSignal;
  readonly pollMs?: number;
  readonly say: (line: string) => void;
  readonly describe: (event: InboxEvent) => string;
}

/**
 * `--keyring s3://bucket/key`: the central stack keeps the keyring as an object only the stack
 * writes (environments may put under inbox/<env>/ only). Read once at start.
 */
export async function loadKeyringFromS3(url: string): Promise<Keyring> {
  const { bucket, prefix } = parseS3Url(url, "--keyring");
  const key = prefix.replace(/\/$/, "");
  const dir = await mkdtemp(join(tmpdir(), "tiers-keyring-"));
  const client = centralS3Client();
  try {
    const file = join(dir, "keyring");
    await downloadVerified(client, { bucket, key, to: file, requireSha256Metadata: false });
    return await loadKeyring(file);
  } finally {
    client.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}

export async function watchS3(cdb: CentralDb, flags: ImportFlags, ctx: WatchS3Context): Promise<void> {
  const location = parseS3Url(flags.watch!);
  const queueUrl = flags.queue ?? process.env.TIERS_INBOX_QUEUE_URL;
  const reportsUrl = flags.reports ?? process.env.TIERS_REPORTS_URL;
  const reports = reportsUrl !== undefined ? parseS3Url(reportsUrl, "--reports") : undefined;
  const client = centralS3Client();
  const notifications =
    queueUrl !== undefined && queueUrl !== "" ? sqsNotifications(centralSqsClient(), queueUrl) : undefined;
  const pollMs = ctx.pollMs ?? (notifications ? 60_000 : 2000);
  ctx.say(
    `watching s3://${location.bucket}/${location.prefix} (imported/ and rejected/ beside it): ${
      notifications
        ? `woken by bucket notifications from ${notifications.description}, rescanned every ${pollMs} ms`
        : `no queue configured, polling every ${pollMs} ms`
    }${reports ? `; reports to s3://${reports.bucket}/${reports.prefix}<cycle>/` : ""}; stop with Ctrl-C`,
  );
  try {
    await watchS3Inbox(cdb, {
      client,
      location,
      keyring: ctx.keyring,
      signal: ctx.signal,
      pollMs,
      ...(notifications ? { notifications } : {}),
      onEvent: async (event) => {
        ctx.say(ctx.describe(event));
        if (!reports || event.kind !== "imported") return;
        try {
          const written = await publishCycleReports(cdb, client, reports, event.outcome.cycleId);
          ctx.say(`reported  cycle ${event.outcome.cycleId} → ${written.join(", ")}`);
        } catch (error) {
          // The bundle is stored; the next bundle of the cycle (or a rerun) writes the reports again.
          ctx.say(`report of cycle ${event.outcome.cycleId} not written: ${(error as Error).message}`);
        }
      },
    });
  } finally {
    client.destroy();
  }
}
