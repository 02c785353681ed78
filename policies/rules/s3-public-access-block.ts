import type { StackValidationPolicy } from "@pulumi/policy";
import { joinAnd } from "../lib/props.js";
import { bucketsOf, COMPANION, companionsOf, describeBucket } from "../lib/s3.js";

const FLAGS = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"] as const;

export const s3PublicAccessBlock: StackValidationPolicy = {
  name: "s3-public-access-block",
  description:
    "Every S3 bucket has a public access block with all four settings on: no public ACL or policy can open it.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const buckets = bucketsOf(args.resources);
    if (buckets.length === 0) return args.notApplicable("the stack has no S3 bucket");
    for (const bucket of buckets) {
      const blocks = companionsOf(bucket, args.resources, COMPANION.publicAccessBlock);
      if (blocks.length === 0) {
        reportViolation(
          `${describeBucket(bucket)} has no public access block; add a BucketPublicAccessBlock with ${joinAnd([...FLAGS])} all true`,
          bucket.urn,
        );
        continue;
      }
      const off = FLAGS.filter((f) => !blocks.some((b) => b.props[f] === true));
      if (off.length > 0) {
        reportViolation(
          `the public access block of ${describeBucket(bucket)} leaves ${joinAnd([...off])} off; set ${off.length === 1 ? "it" : "them"} to true`,
          bucket.urn,
        );
      }
    }
  },
};
