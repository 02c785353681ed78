/**
 * Every policy of the pack, in the order reports list them. Importing this module constructs
 * nothing: `index.ts` hands the list to `PolicyPack` (whose constructor starts the analyzer's gRPC
 * server), and `tiers policy check` applies the same objects to a captured graph.
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { allowedRegions } from "./rules/allowed-regions.js";
import { containerNonRoot } from "./rules/container-non-root.js";
import { containerReadOnlyRoot } from "./rules/container-read-only-root.js";
import { containerResources } from "./rules/container-resources.js";
import { crossNamespaceBinding } from "./rules/cross-namespace-binding.js";
import { eksControlPlaneLogging } from "./rules/eks-control-plane-logging.js";
import { eksPublicEndpoint } from "./rules/eks-public-endpoint.js";
import { environmentDefaultDeny } from "./rules/environment-default-deny.js";
import { environmentNoExposure } from "./rules/environment-no-exposure.js";
import { ephemeralExpiry } from "./rules/ephemeral-expiry.js";
import { hostAccess } from "./rules/host-access.js";
import { jobTtl } from "./rules/job-ttl.js";
import { lifecycleTags } from "./rules/lifecycle-tags.js";
import { noPlaintextSecrets } from "./rules/no-plaintext-secrets.js";
import { pinnedImages } from "./rules/pinned-images.js";
import { rdsEncryptedPrivate } from "./rules/rds-encrypted-private.js";
import { s3BundleVersioning } from "./rules/s3-bundle-versioning.js";
import { s3Encryption } from "./rules/s3-encryption.js";
import { s3InboxWriters } from "./rules/s3-inbox-writers.js";
import { s3LifecycleExpiry } from "./rules/s3-lifecycle-expiry.js";
import { s3PublicAccessBlock } from "./rules/s3-public-access-block.js";
import { s3TlsOnly } from "./rules/s3-tls-only.js";
import { tierCapacity } from "./rules/tier-capacity.js";
import { tierInstanceTypes } from "./rules/tier-instance-types.js";
import { workloadProbes } from "./rules/workload-probes.js";

export type AnyPolicy = ResourceValidationPolicy | StackValidationPolicy;

/** The pack's name, as `pulumi preview` prints it (`test-tiers@v0.1.0`). */
export const POLICY_PACK_NAME = "test-tiers";

/** What each group of the issue covers, for the README and reports. */
export const POLICY_GROUPS: Readonly<Record<string, readonly AnyPolicy[]>> = {
  isolation: [environmentDefaultDeny, environmentNoExposure, hostAccess, crossNamespaceBinding],
  "workload hygiene": [
    containerResources,
    containerNonRoot,
    containerReadOnlyRoot,
    pinnedImages,
    workloadProbes,
    jobTtl,
  ],
  data: [
    s3Encryption,
    s3PublicAccessBlock,
    s3TlsOnly,
    s3BundleVersioning,
    s3LifecycleExpiry,
    s3InboxWriters,
    rdsEncryptedPrivate,
    noPlaintextSecrets,
  ],
  "cost and scale": [tierCapacity, tierInstanceTypes, allowedRegions],
  lifecycle: [lifecycleTags, ephemeralExpiry],
  cluster: [eksControlPlaneLogging, eksPublicEndpoint],
};

export const POLICIES: readonly AnyPolicy[] = Object.values(POLICY_GROUPS).flat();

export function isStackPolicy(p: AnyPolicy): p is StackValidationPolicy {
  return "validateStack" in p;
}
