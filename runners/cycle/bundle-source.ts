import type { S3Client } from "@aws-sdk/client-s3";
import { BundleError } from "../../workloads/bundle/errors.js";
import type { BundleInfo, OrchestratorClient } from "./orchestrator-client.js";

/**
 * Where the runner takes an environment's exported bundle from: through the orchestrator's API
 * (the local target, and a cluster stack without a bucket), or from the environment's S3 prefix,
 * where the orchestrator uploaded it (EKS). Either way the file lands in the central inbox.
 */
export interface BundleSource {
  /** For the run's lines: "the orchestrator's API", "s3://bucket/bundles/env-1/". */
  readonly description: string;
  /** Puts the bundle `info` describes at `file`; returns its size. */
  fetch(client: OrchestratorClient, info: BundleInfo, file: string): Promise<number>;
}

export const API_BUNDLE_SOURCE: BundleSource = {
  description: "the orchestrator's API",
  fetch: (client, info, file) => client.download(info.bundle_id, file),
};

/**
 * The environment's own prefix of its region's bucket. The object must be the one the orchestrator
 * reported (bucket, a key under the environment's prefix, sha256 over the authenticated API): an
 * orchestrator cannot point the runner at another environment's objects, and an object changed in
 * the bucket after upload is refused.
 */
export function s3BundleSource(s3: () => Promise<S3Client>, bucket: string, prefix: string): BundleSource {
  const description = `s3://${bucket}/${prefix}`;
  return {
    description,
    async fetch(_client, info, file) {
      const at = info.location;
      if (!at || at.kind !== "s3")
        throw new BundleError(
          "missing_file",
          `bundle ${info.bundle_id} was not uploaded to ${description}: the orchestrator reported no S3 location (is its environment.json mounted?)`,
        );
      if (at.bucket !== bucket || !at.key.startsWith(prefix) || at.key.slice(prefix.length).includes("/"))
        throw new BundleError(
          "unsafe_path",
          `bundle ${info.bundle_id} is reported at s3://${at.bucket}/${at.key}, outside the environment's ${description}`,
        );
      const { downloadVerified } = await import("../../workloads/bundle/s3-store.js");
      const got = await downloadVerified(await s3(), {
        bucket,
        key: at.key,
        to: file,
        expectedSha256: info.sha256,
        ...(at.version_id ? { versionId: at.version_id } : {}),
      });
      return got.size;
    },
  };
}
