import type { StackValidationPolicy } from "@pulumi/policy";
import { get, known } from "../lib/props.js";
import { bucketsOf, COMPANION, companionsOf, describeBucket, isBundleStoreBucket } from "../lib/s3.js";

export const s3BundleVersioning: StackValidationPolicy = {
  name: "s3-bundle-versioning",
  description:
    "Every bundle store bucket keeps object versions, so an overwritten or deleted result bundle can be recovered.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const buckets = bucketsOf(args.resources).filter(isBundleStoreBucket);
    if (buckets.length === 0) return args.notApplicable("the stack has no bundle store bucket");
    for (const bucket of buckets) {
      const enabled =
        companionsOf(bucket, args.resources, COMPANION.versioning).some(
          (v) => get(v.props, ["versioningConfiguration", "status"]) === "Enabled",
        ) || get(known(bucket.props, "versioning"), ["enabled"]) === true;
      if (enabled) continue;
      reportViolation(
        `bundle store ${describeBucket(bucket)} does not keep versions; add a BucketVersioning with versioningConfiguration.status Enabled`,
        bucket.urn,
      );
    }
  },
};
