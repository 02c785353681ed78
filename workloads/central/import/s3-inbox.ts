import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join, posix } from "node:path";
import { CopyObjectCommand, DeleteObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { ExitCode, TiersError } from "../../../tiers/errors.js";
import { escapeControls } from "../../../tiers/safe-text.js";
import { BundleError } from "../../bundle/errors.js";
import { downloadVerified, headObject, listObjects } from "../../bundle/s3-store.js";
import type { CentralDb } from "../db/connect.js";
import { importBundle, type ImportOptions } from "./import-bundle.js";
import { isBundleFileName, type InboxEvent } from "./inbox.js";
import { claimLease, DEFAULT_LEASE_MS, ensureLeaseTable, releaseLease } from "./inbox-lease.js";
import type { InboxNotifications } from "./s3-notifications.js";

/**
 * The central stack's inbox in S3: environments put bundles under `<prefix><env>/…tar.gz`; the
 * watcher imports each and moves it to `<prefix>imported/…` or `<prefix>rejected/…` (with
 * `….reason.txt`) exactly as the directory inbox moves files. Several watchers may watch one
 * inbox: each object is leased in the results database before it is touched (`inbox-lease.ts`).
 */
export interface S3Location {
  readonly bucket: string;
  /** `""` or ending in `/`. */
  readonly prefix: string;
}

/** The sub-prefixes the watcher writes; an environment id may not be one of them. */
export const INBOX_OUTCOME_DIRS = ["imported", "rejected"] as const;

/** `s3://bucket/prefix` → bucket and prefix (with its trailing `/`); a clear error for anything else. */
export function parseS3Url(url: string, what = "--watch"): S3Location {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (!m)
    throw new TiersError(
      ExitCode.Usage,
      `${what}: not an S3 location (got ${JSON.stringify(url)}, expected s3://<bucket>/<prefix>, a bucket name of 3 to 63 lower-case letters, digits, dots and hyphens)`,
    );
  const raw = m[2] ?? "";
  const prefix = raw === "" || raw.endsWith("/") ? raw : `${raw}/`;
  if (prefix.split("/").some((part, i, all) => (part === "." || part === "..") && i < all.length))
    throw new TiersError(
      ExitCode.Usage,
      `${what}: the prefix has a . or .. segment (got ${JSON.stringify(url)}, expected s3://<bucket>/<prefix>)`,
    );
  return { bucket: m[1]!, prefix };
}

export const s3Url = (bucket: string, key: string): string => `s3://${bucket}/${key}`;

/** The inbox keys a watcher imports: `*.tar.gz` under the prefix, not hidden, not already moved. */
export function isInboxBundleKey(location: S3Location, key: string): boolean {
  if (!key.startsWith(location.prefix)) return false;
  const parts = key.slice(location.prefix.length).split("/");
  if (parts.length > 1 && (INBOX_OUTCOME_DIRS as readonly string[]).includes(parts[0]!)) return false;
  return isBundleFileName(parts[parts.length - 1]!);
}

export interface S3InboxOptions extends ImportOptions {
  readonly client: S3Client;
  readonly location: S3Location;
  readonly signal: AbortSignal;
  /** Rescan interval: with notifications a safety net (default 60 s), without them the polling (default 2 s). */
  readonly pollMs?: number;
  /** @default DEFAULT_LEASE_MS */
  readonly leaseMs?: number;
  /** Who holds this watcher's leases (default `<host>:<pid>:<random>`). */
  readonly holder?: string;
  /** A queue that S3 tells of new objects (bucket notifications); without one the inbox is polled. */
  readonly notifications?: InboxNotifications;
  readonly onEvent: (event: InboxEvent) => void | Promise<void>;
}

async function copyThenDelete(client: S3Client, bucket: string, from: string, to: string): Promise<void> {
  try {
    await client.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: to,
        CopySource: `${bucket}/${from.split("/").map(encodeURIComponent).join("/")}`,
        MetadataDirective: "COPY",
      }),
    );
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: from }));
  } catch (error) {
    throw new TiersError(
      ExitCode.Infrastructure,
      `move ${s3Url(bucket, from)} to ${s3Url(bucket, to)}: ${(error as Error).name}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/** A free key for `rel` under `dir/` (`x.tar.gz`, then `x.1.tar.gz` …), so nothing is overwritten. */
async function freeKey(client: S3Client, bucket: string, dir: string, rel: string): Promise<string> {
  const stem = rel.replace(/\.tar\.gz$/, "");
  for (let i = 0; ; i++) {
    const candidate = `${dir}${i === 0 ? rel : `${stem}.${i}.tar.gz`}`;
    if ((await headObject(client, { bucket, key: candidate })) === undefined) return candidate;
  }
}

/** As the directory inbox: a locked, unreachable or full database, an interruption, an S3 outage → retried. */
function retryable(error: unknown): boolean {
  return (
    error instanceof TiersError &&
    !(error instanceof BundleError) &&
    (error.exitCode === ExitCode.Infrastructure || error.exitCode === ExitCode.Interrupted)
  );
}

/**
 * Leases, downloads, imports and moves one inbox object. Undefined when another watcher holds it
 * or has already moved it.
 */
async function processObject(
  cdb: CentralDb,
  key: string,
  holder: string,
  options: S3InboxOptions,
): Promise<InboxEvent | undefined> {
  const { client, location } = options;
  const { bucket } = location;
  if (!(await claimLease(cdb, key, holder, options.leaseMs ?? DEFAULT_LEASE_MS))) return undefined;
  const work = await mkdtemp(join(tmpdir(), "tiers-s3-inbox-"));
  const url = s3Url(bucket, key);
  try {
    // Another watcher may have moved it between our listing and our lease.
    if ((await headObject(client, { bucket, key })) === undefined) return undefined;
    const rel = key.slice(location.prefix.length);
    const local = join(work, posix.basename(rel));
    let outcome;
    try {
      await downloadVerified(client, {
        bucket,
        key,
        to: local,
        requireSha256Metadata: false,
        signal: options.signal,
      });
      outcome = { ...(await importBundle(cdb, local, options)), file: url };
    } catch (error) {
      if (retryable(error)) return { kind: "deferred", file: url, error };
      const reason = error instanceof BundleError ? error.reason : "internal_error";
      const detail = escapeControls(
        error instanceof BundleError ? error.detail : ((error as Error)?.message ?? String(error)),
        { lines: false },
      );
      const target = await freeKey(client, bucket, `${location.prefix}rejected/`, rel);
      await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: `${target}.reason.txt`,
          ContentType: "text/plain; charset=utf-8",
          Body: `reason: ${reason}\nmessage: ${detail}\nfile: ${escapeControls(url, { lines: false })}\nrefused_at: ${new Date().toISOString()}\n`,
        }),
      );
      await copyThenDelete(client, bucket, key, target);
      return { kind: "rejected", file: url, reason, detail, movedTo: s3Url(bucket, target) };
    }
    const target = await freeKey(client, bucket, `${location.prefix}imported/`, rel);
    await copyThenDelete(client, bucket, key, target);
    return { kind: "imported", outcome, movedTo: s3Url(bucket, target) };
  } finally {
    await rm(work, { recursive: true, force: true });
    await releaseLease(cdb, key, holder);
  }
}

/** One pass: every inbox object now there, oldest first, each leased, imported and moved. */
export async function scanS3Inbox(
  cdb: CentralDb,
  options: S3InboxOptions & { readonly holder: string },
): Promise<void> {
  const { bucket, prefix } = options.location;
  const keys = (await listObjects(options.client, bucket, prefix))
    .map((o) => o.key)
    .filter((k) => isInboxBundleKey(options.location, k));
  for (const key of keys) {
    if (options.signal.aborted) break;
    const event = await processObject(cdb, key, options.holder, options);
    if (event) await options.onEvent(event);
  }
}

/**
 * Watches an S3 inbox until `signal` aborts. With `notifications` each message from the queue
 * wakes a scan (and a rescan runs every `pollMs`, 60 s by default, in case one was lost); without
 * them the prefix is listed every `pollMs` (2 s by default). An S3 or database outage is reported
 * as `deferred` and retried on the next scan.
 */
export async function watchS3Inbox(cdb: CentralDb, options: S3InboxOptions): Promise<void> {
  await ensureLeaseTable(cdb);
  const holder = options.holder ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const pollMs = options.pollMs ?? (options.notifications ? 60_000 : 2000);
  while (!options.signal.aborted) {
    try {
      await scanS3Inbox(cdb, { ...options, holder });
    } catch (error) {
      if (!retryable(error)) throw error;
      await options.onEvent({
        kind: "deferred",
        file: s3Url(options.location.bucket, options.location.prefix),
        error,
      });
    }
    if (options.signal.aborted) break;
    if (!options.notifications) {
      await sleep(pollMs, options.signal);
      continue;
    }
    try {
      await options.notifications.next(pollMs, options.signal);
    } catch (error) {
      if (!retryable(error)) throw error;
      await options.onEvent({ kind: "deferred", file: options.notifications.description, error });
      await sleep(Math.min(pollMs, 5000), options.signal);
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
