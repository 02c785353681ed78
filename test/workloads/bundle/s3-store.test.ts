import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sha256Hex } from "../../../tiers/plan/hash.js";
import { downloadVerified, headObject, listObjects, uploadFile } from "../../../workloads/bundle/s3-store.js";
import { startS3Server, type S3TestServer } from "../../support/s3-server.js";
import { tempDir } from "../../support/temp.js";

let s3: S3TestServer;
let dir: { path: string; remove: () => Promise<void> };
beforeAll(async () => {
  s3 = await startS3Server(["bundles"]);
  dir = await tempDir("tiers-s3-store-");
});
afterAll(async () => {
  await s3.close();
  await dir.remove();
});

describe("bundle objects in S3 (s3rver on loopback)", () => {
  it("uploads in parts above the threshold, and the download gives back the same bytes, verified", async () => {
    const file = join(dir.path, "big.tar.gz");
    const bytes = randomBytes(11 * 1024 * 1024 + 17);
    await writeFile(file, bytes);
    const client = s3.client();
    const stored = await uploadFile(client, {
      bucket: "bundles",
      key: "bundles/env-1/big.tar.gz",
      file,
      multipartThreshold: 5 * 1024 * 1024,
      partSize: 5 * 1024 * 1024,
    });
    expect(stored).toMatchObject({ size: bytes.length, sha256: sha256Hex(bytes), uploaded: true });
    // One object created by a POST (CompleteMultipartUpload; s3rver names the event by method), no PUT.
    expect(s3.events.map((e) => e.eventName)).toStrictEqual(["ObjectCreated:Post"]);
    const to = join(dir.path, "back.tar.gz");
    expect(
      await downloadVerified(client, {
        bucket: "bundles",
        key: stored.key,
        to,
        expectedSha256: stored.sha256,
      }),
    ).toStrictEqual({ size: bytes.length, sha256: sha256Hex(bytes) });
    expect((await readFile(to)).equals(bytes)).toBe(true);
    // The same file again: already there with the same sha256, nothing uploaded.
    const again = await uploadFile(client, { bucket: "bundles", key: stored.key, file });
    expect(again.uploaded).toBe(false);
    expect((await headObject(client, { bucket: "bundles", key: stored.key }))?.sha256).toBe(sha256Hex(bytes));
  });

  it("refuses an object whose bytes changed after upload, whose sha256 is not the reported one, or that has none", async () => {
    const client = s3.client();
    const file = join(dir.path, "small.tar.gz");
    await writeFile(file, "original bundle bytes");
    const stored = await uploadFile(client, { bucket: "bundles", key: "bundles/env-2/small.tar.gz", file });
    const to = join(dir.path, "got.tar.gz");
    // Replaced in the bucket, the metadata left as it was.
    await client.send(
      new PutObjectCommand({
        Bucket: "bundles",
        Key: stored.key,
        Body: "tampered bundle bytes",
        Metadata: { sha256: stored.sha256 },
      }),
    );
    await expect(downloadVerified(client, { bucket: "bundles", key: stored.key, to })).rejects.toThrow(
      /^bundle refused \(checksum_mismatch\): s3:\/\/bundles\/bundles\/env-2\/small\.tar\.gz: its bytes hash to [0-9a-f]{16}…, its metadata says [0-9a-f]{16}…; the object was changed after upload$/,
    );
    // Replaced with metadata to match: the sha256 the orchestrator reported still tells.
    await client.send(
      new PutObjectCommand({
        Bucket: "bundles",
        Key: stored.key,
        Body: "tampered bundle bytes",
        Metadata: { sha256: sha256Hex("tampered bundle bytes") },
      }),
    );
    await expect(
      downloadVerified(client, { bucket: "bundles", key: stored.key, to, expectedSha256: stored.sha256 }),
    ).rejects.toThrow(/the orchestrator reported [0-9a-f]{16}…; the object was changed after upload$/);
    await client.send(new PutObjectCommand({ Bucket: "bundles", Key: "bundles/env-2/plain", Body: "x" }));
    await expect(
      downloadVerified(client, { bucket: "bundles", key: "bundles/env-2/plain", to }),
    ).rejects.toThrow(
      "bundle refused (checksum_mismatch): s3://bundles/bundles/env-2/plain carries no sha256 metadata; it was not uploaded by an orchestrator",
    );
    expect(existsSync(to) || existsSync(`${to}.partial`)).toBe(false);
    expect((await listObjects(client, "bundles", "bundles/env-2/")).map((o) => o.key).sort()).toStrictEqual([
      "bundles/env-2/plain",
      "bundles/env-2/small.tar.gz",
    ]);
  });

  it("names the object and the S3 error when the bucket does not exist", async () => {
    const file = join(dir.path, "small.tar.gz");
    await expect(uploadFile(s3.client(), { bucket: "no-such-bucket", key: "k", file })).rejects.toThrow(
      /^(look up|upload) s3:\/\/no-such-bucket\/k: NoSuchBucket: /,
    );
  });
});
