import { basename } from "node:path";
import { S3Client } from "@aws-sdk/client-s3";
import { uploadFile } from "../../bundle/s3-store.js";
import type { BundleStoreConfig } from "../environment-file.js";
import type { ExportedBundle } from "./export-bundle.js";

/** Where an exported bundle was put besides the environment's volume. */
export interface BundleLocation {
  readonly kind: "s3";
  readonly bucket: string;
  readonly key: string;
  readonly region: string;
  readonly version_id?: string;
}

export type S3BundleStore = Extract<BundleStoreConfig, { kind: "s3" }>;

/**
 * The S3 client of an environment: the region from its environment file, credentials from the
 * default chain (on EKS the pod's IRSA web identity; `AWS_ENDPOINT_URL_S3` points it elsewhere).
 */
export function environmentS3Client(store: S3BundleStore): S3Client {
  return new S3Client({ region: store.region });
}

/**
 * Uploads an exported bundle to `s3://<bucket>/<prefix><file name>` (multipart when large, each
 * request checksummed, the sha256 as metadata). Exporting again uploads nothing new: the object is
 * already there with the same sha256.
 */
export async function uploadBundle(
  client: S3Client,
  store: S3BundleStore,
  bundle: ExportedBundle,
): Promise<BundleLocation> {
  const stored = await uploadFile(client, {
    bucket: store.bucket,
    key: `${store.prefix}${basename(bundle.file)}`,
    file: bundle.file,
    sha256: bundle.sha256,
  });
  return {
    kind: "s3",
    bucket: stored.bucket,
    key: stored.key,
    region: store.region,
    ...(stored.versionId ? { version_id: stored.versionId } : {}),
  };
}
