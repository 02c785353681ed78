import { mkdtemp, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { S3Client } from "@aws-sdk/client-s3";
import S3rver from "s3rver";

/**
 * A real S3 API server on loopback for the S3 code's tests: s3rver (from npm) on 127.0.0.1 with its
 * data in a scratch directory, the given buckets made at start, signatures checked against the
 * fixed test credentials. `events` receives S3's event records for object puts, copies and deletes
 * (the bucket notifications the central inbox could be told of).
 */
export interface S3TestServer {
  readonly endpoint: string;
  /** Credentials the server accepts (s3rver's fixed pair; test-only, not a secret). */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly region: string;
  /** A client for this server (path-style addressing). */
  client(): S3Client;
  /** Event records received so far (`eventName`, bucket, key). */
  readonly events: readonly { eventName: string; bucket: string; key: string }[];
  close(): Promise<void>;
}

export async function startS3Server(buckets: readonly string[]): Promise<S3TestServer> {
  const directory = await mkdtemp(join(tmpdir(), "tiers-s3rver-"));
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory,
    configureBuckets: buckets.map((name) => ({ name, configs: [] })),
  });
  const events: { eventName: string; bucket: string; key: string }[] = [];
  (server as unknown as NodeJS.EventEmitter).on(
    "event",
    (e: { Records: { eventName: string; s3: { bucket: { name: string }; object: { key: string } } }[] }) => {
      for (const r of e.Records)
        events.push({ eventName: r.eventName, bucket: r.s3.bucket.name, key: r.s3.object.key });
    },
  );
  const address: AddressInfo = await server.run();
  const endpoint = `http://127.0.0.1:${address.port}`;
  const credentials = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };
  const region = "us-east-1";
  const clients: S3Client[] = [];
  return {
    endpoint,
    credentials,
    region,
    events,
    client: () => {
      const c = new S3Client({ endpoint, region, credentials, forcePathStyle: true });
      clients.push(c);
      return c;
    },
    close: async () => {
      for (const c of clients) c.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
