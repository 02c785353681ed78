import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterEach, describe, expect, it } from "vitest";
import { startS3Server, type S3TestServer } from "./s3-server.js";

let s3: S3TestServer | undefined;
afterEach(async () => {
  await s3?.close();
  s3 = undefined;
});

describe("the loopback S3 server for tests", () => {
  it("stores, lists and returns objects with the AWS SDK, and reports put events", async () => {
    s3 = await startS3Server(["inbox"]);
    expect(s3.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const c = s3.client();
    await c.send(new PutObjectCommand({ Bucket: "inbox", Key: "bundles/env-1/a.tar.gz", Body: "abc" }));
    const listed = await c.send(new ListObjectsV2Command({ Bucket: "inbox", Prefix: "bundles/env-1/" }));
    expect(listed.Contents?.map((o) => o.Key)).toStrictEqual(["bundles/env-1/a.tar.gz"]);
    const got = await c.send(new GetObjectCommand({ Bucket: "inbox", Key: "bundles/env-1/a.tar.gz" }));
    expect(await got.Body?.transformToString()).toBe("abc");
    expect(s3.events).toStrictEqual([
      { eventName: "ObjectCreated:Put", bucket: "inbox", key: "bundles/env-1/a.tar.gz" },
    ]);
  });
});
