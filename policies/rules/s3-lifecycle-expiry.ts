import type { StackValidationPolicy } from "@pulumi/policy";
import { get, known, list, record } from "../lib/props.js";
import { bucketsOf, COMPANION, companionsOf, describeBucket } from "../lib/s3.js";

/** Whether a lifecycle rule is on and expires current objects (after days, or on a date). */
function expires(rule: unknown): boolean {
  const r = record(rule) ?? {};
  const on = r.status === "Enabled" || r.enabled === true;
  const expiration = list(r.expiration).length > 0 ? list(r.expiration)[0] : r.expiration;
  const days = get(expiration, ["days"]);
  return on && ((typeof days === "number" && days > 0) || get(expiration, ["date"]) !== undefined);
}

export const s3LifecycleExpiry: StackValidationPolicy = {
  name: "s3-lifecycle-expiry",
  description:
    "Every S3 bucket has an enabled lifecycle rule that expires objects: results are carried to the centre, not kept forever.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const buckets = bucketsOf(args.resources);
    if (buckets.length === 0) return args.notApplicable("the stack has no S3 bucket");
    for (const bucket of buckets) {
      const rules = [
        ...companionsOf(bucket, args.resources, COMPANION.lifecycle).flatMap((c) => list(c.props.rules)),
        ...list(known(bucket.props, "lifecycleRules")),
      ];
      if (rules.some(expires)) continue;
      reportViolation(
        `${describeBucket(bucket)} never expires its objects; add a BucketLifecycleConfiguration rule with status Enabled and expiration.days`,
        bucket.urn,
      );
    }
  },
};
