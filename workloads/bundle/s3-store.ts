import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { open, rename, rm, stat } from "node:fs/promises";
import { Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3ServiceException,
  UploadPartCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { ExitCode, TiersError } from "../../tiers/errors.js";
import { BundleError } from "./errors.js";

/**
 * Bundle objects in S3, shared by every side that moves bundles through a bucket: the orchestrator
 * uploads its environment's bundles under its prefix, the runner and `tiers bundles fetch` download
 * them, the central stack's inbox watcher reads them. Every object carries the sha256 of its bytes
 * (hex, metadata `sha256`), which the downloader checks against the bytes it received and, when it
 * has one, against the sha256 the orchestrator reported over its API.
 */

/** Objects at or above this size go up in parts (S3 takes at most 5 GiB in one PUT). */
export const MULTIPART_THRESHOLD = 64 * 1024 * 1024;
/** Part size of a multipart upload (S3's minimum is 5 MiB for every part but the last). */
export const PART_SIZE = 16 * 1024 * 1024;
export const SHA256_METADATA = "sha256";

export interface S3ObjectRef {
  readonly bucket: string;
  readonly key: string;
}

export interface StoredObject extends S3ObjectRef {
  readonly size: number;
  /** Hex sha256 of the object's bytes. */
  readonly sha256: string;
  readonly versionId?: string;
  /** False when the object was already there with the same bytes. */
  readonly uploaded: boolean;
}

export interface UploadOptions extends S3ObjectRef {
  readonly file: string;
  /** Hex sha256 of the file, when the caller already knows it (else computed). */
  readonly sha256?: string;
  /** @default MULTIPART_THRESHOLD */
  readonly multipartThreshold?: number;
  /** @default PART_SIZE */
  readonly partSize?: number;
  readonly signal?: AbortSignal;
}

function notFound(error: unknown): boolean {
  return (
    error instanceof S3ServiceException &&
    (error.$metadata.httpStatusCode === 404 || error.name === "NotFound" || error.name === "NoSuchKey")
  );
}

function s3Failure(what: string, ref: S3ObjectRef, error: unknown): TiersError {
  const e = error as { name?: string; message?: string };
  return new TiersError(
    ExitCode.Infrastructure,
    `${what} s3://${ref.bucket}/${ref.key}: ${e.name ?? "Error"}: ${e.message ?? String(error)}`,
    { cause: error },
  );
}

const b64 = (hexText: string): string => Buffer.from(hexText, "hex").toString("base64");

export async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(file), hash);
  return hash.digest("hex");
}

/** The object's size and recorded sha256, or undefined when there is none. */
export async function headObject(
  client: S3Client,
  ref: S3ObjectRef,
): Promise<{ size: number; sha256: string | undefined; versionId?: string } | undefined> {
  try {
    const h = await client.send(new HeadObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
    return {
      size: h.ContentLength ?? 0,
      sha256: h.Metadata?.[SHA256_METADATA],
      ...(h.VersionId ? { versionId: h.VersionId } : {}),
    };
  } catch (error) {
    if (notFound(error)) return undefined;
    throw s3Failure("look up", ref, error);
  }
}

/**
 * Uploads a file (one PUT below the threshold, else a multipart upload), each request with its
 * SHA-256 checksum for S3 to verify, and the whole file's sha256 as metadata. Idempotent: an object
 * already there with the same sha256 is left as it is. A multipart upload that fails is aborted.
 */
export async function uploadFile(client: S3Client, options: UploadOptions): Promise<StoredObject> {
  const { bucket, key, file } = options;
  const size = (await stat(file)).size;
  const sha256 = options.sha256 ?? (await sha256OfFile(file));
  const existing = await headObject(client, options);
  if (existing && existing.sha256 === sha256 && existing.size === size)
    return {
      bucket,
      key,
      size,
      sha256,
      uploaded: false,
      ...(existing.versionId ? { versionId: existing.versionId } : {}),
    };
  const common = {
    Bucket: bucket,
    Key: key,
    ContentType: "application/gzip",
    Metadata: { [SHA256_METADATA]: sha256 },
  };
  const abortSignal = options.signal;
  if (size < (options.multipartThreshold ?? MULTIPART_THRESHOLD)) {
    try {
      const put = await client.send(
        new PutObjectCommand({
          ...common,
          Body: createReadStream(file),
          ContentLength: size,
          ChecksumSHA256: b64(sha256),
        }),
        { ...(abortSignal ? { abortSignal } : {}) },
      );
      return {
        bucket,
        key,
        size,
        sha256,
        uploaded: true,
        ...(put.VersionId ? { versionId: put.VersionId } : {}),
      };
    } catch (error) {
      throw s3Failure("upload", options, error);
    }
  }
  const partSize = options.partSize ?? PART_SIZE;
  let uploadId: string | undefined;
  const handle = await open(file, "r");
  try {
    const created = await client.send(
      new CreateMultipartUploadCommand({ ...common, ChecksumAlgorithm: "SHA256" }),
    );
    uploadId = created.UploadId;
    const parts: { ETag: string | undefined; PartNumber: number; ChecksumSHA256: string | undefined }[] = [];
    for (let offset = 0, n = 1; offset < size; offset += partSize, n += 1) {
      const length = Math.min(partSize, size - offset);
      const body = Buffer.alloc(length);
      await handle.read(body, 0, length, offset);
      const part = await client.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          PartNumber: n,
          Body: body,
          ContentLength: length,
          ChecksumSHA256: createHash("sha256").update(body).digest("base64"),
        }),
        { ...(abortSignal ? { abortSignal } : {}) },
      );
      parts.push({ ETag: part.ETag, PartNumber: n, ChecksumSHA256: part.ChecksumSHA256 });
    }
    const done = await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
    return {
      bucket,
      key,
      size,
      sha256,
      uploaded: true,
      ...(done.VersionId ? { versionId: done.VersionId } : {}),
    };
  } catch (error) {
    if (uploadId !== undefined)
      await client
        .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))
        .catch(() => undefined);
    throw s3Failure("upload", options, error);
  } finally {
    await handle.close();
  }
}

export interface DownloadOptions extends S3ObjectRef {
  /** Where the object goes (written to `<to>.partial`, renamed once verified). */
  readonly to: string;
  /** Hex sha256 the bytes must have (what the orchestrator reported over its API). */
  readonly expectedSha256?: string;
  readonly versionId?: string;
  readonly signal?: AbortSignal;
  /**
   * Refuse an object without `sha256` metadata. The central inbox accepts bundles dropped by any S3
   * client (`aws s3 cp`), which carries none: their own seal and signature are verified on import.
   * @default true
   */
  readonly requireSha256Metadata?: boolean;
}

/**
 * Downloads an object and verifies it before it lands under its name: its bytes' sha256 must equal
 * the object's `sha256` metadata and, when given, `expectedSha256`. A mismatch — an object replaced,
 * truncated or corrupted in the bucket — is refused (exit 7) and nothing is left behind.
 */
export async function downloadVerified(
  client: S3Client,
  options: DownloadOptions,
): Promise<{ size: number; sha256: string }> {
  const { bucket, key, to } = options;
  const where = `s3://${bucket}/${key}`;
  let res;
  try {
    res = await client.send(
      new GetObjectCommand({
        Bucket: bucket,
        Key: key,
        ...(options.versionId ? { VersionId: options.versionId } : {}),
      }),
      { ...(options.signal ? { abortSignal: options.signal } : {}) },
    );
  } catch (error) {
    throw s3Failure("download", options, error);
  }
  const recorded = res.Metadata?.[SHA256_METADATA];
  const optional = options.requireSha256Metadata === false && recorded === undefined;
  if (!optional && (!recorded || !/^[0-9a-f]{64}$/.test(recorded)))
    throw new BundleError(
      "checksum_mismatch",
      `${where} carries no sha256 metadata; it was not uploaded by an orchestrator`,
    );
  const hash = createHash("sha256");
  let size = 0;
  const partial = `${to}.partial`;
  try {
    await pipeline(
      res.Body as Readable,
      new Transform({
        transform(chunk: Buffer, _enc, done) {
          hash.update(chunk);
          size += chunk.length;
          done(null, chunk);
        },
      }),
      createWriteStream(partial, { mode: 0o600 }),
    );
  } catch (error) {
    await rm(partial, { force: true });
    throw s3Failure("download", options, error);
  }
  const sha256 = hash.digest("hex");
  const expected = options.expectedSha256;
  const problem =
    recorded !== undefined && sha256 !== recorded
      ? `its bytes hash to ${sha256.slice(0, 16)}…, its metadata says ${recorded.slice(0, 16)}…`
      : expected !== undefined && sha256 !== expected
        ? `its bytes hash to ${sha256.slice(0, 16)}…, the orchestrator reported ${expected.slice(0, 16)}…`
        : undefined;
  if (problem) {
    await rm(partial, { force: true });
    throw new BundleError("checksum_mismatch", `${where}: ${problem}; the object was changed after upload`);
  }
  await rename(partial, to);
  return { size, sha256 };
}

/** Every object under a prefix (paginated), oldest first. */
export async function listObjects(
  client: S3Client,
  bucket: string,
  prefix: string,
): Promise<{ key: string; size: number; lastModified: Date | undefined }[]> {
  const out: { key: string; size: number; lastModified: Date | undefined }[] = [];
  let token: string | undefined;
  do {
    let page;
    try {
      page = await client.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: prefix,
          ...(token ? { ContinuationToken: token } : {}),
        }),
      );
    } catch (error) {
      throw s3Failure("list", { bucket, key: prefix }, error);
    }
    for (const o of page.Contents ?? [])
      if (o.Key) out.push({ key: o.Key, size: o.Size ?? 0, lastModified: o.LastModified });
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out.sort((a, b) => (a.lastModified?.getTime() ?? 0) - (b.lastModified?.getTime() ?? 0));
}
