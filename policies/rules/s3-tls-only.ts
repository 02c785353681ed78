import type { StackValidationPolicy } from "@pulumi/policy";
import { known, record, str } from "../lib/props.js";
import { bucketsOf, COMPANION, companionsOf, describeBucket } from "../lib/s3.js";

const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

/**
 * Whether a policy document denies every request without TLS: a Deny statement for every
 * principal and every S3 action, on the bucket and its objects, under `aws:SecureTransport` false.
 */
export function deniesInsecureTransport(policyJson: string, bucketArn?: string): boolean {
  let doc: unknown;
  try {
    doc = JSON.parse(policyJson);
  } catch {
    return false;
  }
  return asList(record(doc)?.Statement).some((s) => {
    const st = record(s) ?? {};
    const principal = st.Principal;
    const everyone = principal === "*" || asList(record(principal)?.AWS).some((p) => p === "*");
    const actions = asList(st.Action);
    const secure = record(record(st.Condition)?.Bool)?.["aws:SecureTransport"];
    const resources = asList(st.Resource).filter((r): r is string => typeof r === "string");
    const base = resources.find((r) => !r.endsWith("/*") && resources.includes(`${r}/*`));
    return (
      st.Effect === "Deny" &&
      everyone &&
      (actions.includes("s3:*") || actions.includes("*")) &&
      (secure === "false" || secure === false) &&
      base !== undefined &&
      (bucketArn === undefined || base === bucketArn)
    );
  });
}

export const s3TlsOnly: StackValidationPolicy = {
  name: "s3-tls-only",
  description:
    "Every S3 bucket's policy denies any request that does not use TLS (aws:SecureTransport false).",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const buckets = bucketsOf(args.resources);
    if (buckets.length === 0) return args.notApplicable("the stack has no S3 bucket");
    for (const bucket of buckets) {
      // A policy document made from the bucket's ARN is unknown during a preview of a new bucket:
      // read directly, so the engine reports this policy as not runnable then, not as violated.
      const documents = [
        ...companionsOf(bucket, args.resources, COMPANION.policy).map((p) => str(p.props.policy)),
        str(known(bucket.props, "policy")),
      ].filter((d): d is string => d !== undefined);
      // The engine's stack analysis sees outputs, where the bucket's ARN is known once created; the
      // inputs the offline check sees have none, and then any bucket ARN with its /* counts.
      const arn = str(known(bucket.props, "arn"));
      if (documents.some((d) => deniesInsecureTransport(d, arn))) continue;
      reportViolation(
        `${describeBucket(bucket)} accepts requests without TLS; add a BucketPolicy statement that denies s3:* to every principal on the bucket and bucket/* when aws:SecureTransport is false`,
        bucket.urn,
      );
    }
  },
};
