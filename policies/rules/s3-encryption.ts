import type { StackValidationPolicy } from "@pulumi/policy";
import { get, known, list, record, str } from "../lib/props.js";
import { bucketsOf, COMPANION, companionsOf, describeBucket } from "../lib/s3.js";

interface Config {
  readonly allowedAlgorithms: readonly string[];
}

/** The default SSE algorithms of a configuration's rules. */
function algorithms(config: unknown): string[] {
  return list(get(config, ["rules"]))
    .map((r) => str(get(r, ["applyServerSideEncryptionByDefault", "sseAlgorithm"])))
    .filter((a): a is string => a !== undefined);
}

export const s3Encryption: StackValidationPolicy = {
  name: "s3-encryption",
  description:
    "Every S3 bucket states its default server-side encryption, with an allowed algorithm (SSE-KMS by default: access to objects then also needs the key).",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      allowedAlgorithms: {
        type: "array",
        items: { type: "string", enum: ["aws:kms", "aws:kms:dsse", "AES256"] },
        minItems: 1,
        default: ["aws:kms", "aws:kms:dsse"],
        description: "Default encryption algorithms a bucket may use.",
      },
    },
  },
  validateStack: (args, reportViolation) => {
    const buckets = bucketsOf(args.resources);
    if (buckets.length === 0) return args.notApplicable("the stack has no S3 bucket");
    const { allowedAlgorithms } = args.getConfig<Config>();
    for (const bucket of buckets) {
      const configs = [
        ...companionsOf(bucket, args.resources, COMPANION.encryption).map((c) => c.props),
        // The inline (legacy) setting: a computed output, unknown while a preview plans the bucket.
        ...[record(known(bucket.props, "serverSideEncryptionConfiguration"))].filter((c) => c !== undefined),
      ];
      const used = configs.flatMap(algorithms);
      if (used.length === 0) {
        reportViolation(
          `${describeBucket(bucket)} states no default encryption; add a BucketServerSideEncryptionConfiguration with sseAlgorithm ${allowedAlgorithms.join(" or ")}`,
          bucket.urn,
        );
      } else if (!used.every((a) => allowedAlgorithms.includes(a))) {
        reportViolation(
          `${describeBucket(bucket)} is encrypted with ${used.join(", ")}, which is not allowed; use sseAlgorithm ${allowedAlgorithms.join(" or ")}`,
          bucket.urn,
        );
      }
    }
  },
};
