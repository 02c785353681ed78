import { setTimeout as sleep } from "node:timers/promises";
import { TAGS } from "../../tiers/infra/identity.js";
import type { Orphan, TaggedResource } from "./orphans.js";

/**
 * The AWS side of the orphan reaper: listing by tag (Resource Groups Tagging API, `GetResources`
 * filtered on the `test-tiers:expires-at` key, every page) and deleting through Cloud Control
 * (`DeleteResource`, then `GetResourceRequestStatus` until it settles). A bucket is emptied of
 * every object version first. Not exercised here: no AWS account is reachable from these machines.
 */
export async function listTaggedResources(region: string): Promise<TaggedResource[]> {
  const { ResourceGroupsTaggingAPIClient, paginateGetResources } =
    await import("@aws-sdk/client-resource-groups-tagging-api");
  const client = new ResourceGroupsTaggingAPIClient({ region });
  const out: TaggedResource[] = [];
  try {
    for await (const page of paginateGetResources({ client }, { TagFilters: [{ Key: TAGS.expiresAt }] })) {
      for (const r of page.ResourceTagMappingList ?? []) {
        if (!r.ResourceARN) continue;
        out.push({
          arn: r.ResourceARN,
          tags: Object.fromEntries((r.Tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""])),
        });
      }
    }
  } finally {
    client.destroy();
  }
  return out;
}

/** Deletes one orphan; resolves when Cloud Control reports success, throws with its status message otherwise. */
export async function deleteOrphan(orphan: Orphan, region: string): Promise<void> {
  const target = orphan.target;
  if (!target) throw new Error(`no automatic deletion for ${orphan.arn}; delete it by hand`);
  if (target.typeName === "AWS::S3::Bucket") await emptyBucket(target.identifier, region);
  const { CloudControlClient, DeleteResourceCommand, GetResourceRequestStatusCommand } =
    await import("@aws-sdk/client-cloudcontrol");
  const client = new CloudControlClient({ region });
  try {
    let event = (
      await client.send(
        new DeleteResourceCommand({ TypeName: target.typeName, Identifier: target.identifier }),
      )
    ).ProgressEvent;
    while (event && (event.OperationStatus === "PENDING" || event.OperationStatus === "IN_PROGRESS")) {
      await sleep(5000);
      event = (await client.send(new GetResourceRequestStatusCommand({ RequestToken: event.RequestToken })))
        .ProgressEvent;
    }
    if (event?.OperationStatus !== "SUCCESS")
      throw new Error(`${event?.OperationStatus ?? "no status"}: ${event?.StatusMessage ?? ""}`);
  } finally {
    client.destroy();
  }
}

/** Every version and delete marker of a bucket, removed 1,000 at a time. */
async function emptyBucket(bucket: string, region: string): Promise<void> {
  const { S3Client, ListObjectVersionsCommand, DeleteObjectsCommand } = await import("@aws-sdk/client-s3");
  const client = new S3Client({ region });
  try {
    for (;;) {
      const page = await client.send(new ListObjectVersionsCommand({ Bucket: bucket, MaxKeys: 1000 }));
      const objects = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v) => ({
        Key: v.Key!,
        VersionId: v.VersionId,
      }));
      if (objects.length === 0) return;
      await client.send(
        new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects, Quiet: true } }),
      );
    }
  } finally {
    client.destroy();
  }
}
