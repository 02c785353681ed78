import type { StackValidationPolicy } from "@pulumi/policy";
import { record, str } from "../lib/props.js";
import { bucketsOf, CENTRAL_ANALYSIS_TYPE, COMPANION, companionsOf, describeBucket } from "../lib/s3.js";
import { typeChainOfUrn } from "../lib/urn.js";

const INBOX_OBJECTS = /^(.+)\/inbox\/([a-z0-9][a-z0-9_-]*)\/\*$/;

const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);
const principalsOf = (st: Record<string, unknown>): string[] => {
  const p = st.Principal;
  if (p === "*") return ["*"];
  return asList(record(p)?.AWS).map((x) => (typeof x === "string" ? x : JSON.stringify(x)));
};

/** What is wrong with an inbox bucket's policy: each writer may put under its own `inbox/<env>/` only. */
export function inboxPolicyProblems(policyJson: string): string[] {
  let doc: unknown;
  try {
    doc = JSON.parse(policyJson);
  } catch {
    return ["its policy is not JSON"];
  }
  const statements = asList(record(doc)?.Statement).map((s) => record(s) ?? {});
  const problems: string[] = [];
  const writers = new Map<string, string>();
  for (const st of statements) {
    if (st.Effect !== "Allow") continue;
    const actions = asList(st.Action).filter((a): a is string => typeof a === "string");
    if (!actions.some((a) => a === "s3:PutObject" || a === "s3:*" || a === "*" || a === "s3:Put*")) continue;
    const principals = principalsOf(st);
    const resources = asList(st.Resource).filter((r): r is string => typeof r === "string");
    const sid = str(st.Sid) ?? "(no Sid)";
    if (principals.includes("*")) problems.push(`statement ${sid} lets every principal put objects`);
    if (actions.some((a) => a !== "s3:PutObject"))
      problems.push(`statement ${sid} grants ${actions.join(", ")}, more than s3:PutObject`);
    for (const r of resources) {
      const m = INBOX_OBJECTS.exec(r);
      if (!m)
        problems.push(`statement ${sid} allows puts on ${r}, not one environment's inbox/<env>/* prefix`);
      else for (const p of principals) writers.set(p, r);
    }
  }
  for (const [principal, prefix] of writers) {
    const denied = statements.some(
      (st) =>
        st.Effect === "Deny" &&
        principalsOf(st).includes(principal) &&
        asList(st.Action).includes("s3:PutObject") &&
        asList(st.NotResource).includes(prefix),
    );
    if (!denied)
      problems.push(
        `${principal} is not denied puts outside ${prefix} (add a Deny of s3:PutObject with NotResource ${prefix}, so a broader grant on the role cannot widen it)`,
      );
  }
  if (writers.size === 0) problems.push("it lets no environment put bundles (no writer under inbox/<env>/)");
  return problems;
}

export const s3InboxWriters: StackValidationPolicy = {
  name: "s3-inbox-writers",
  description:
    "The central stack's inbox bucket lets each environment's role put objects only under its own inbox/<env>/ prefix (an allow on that prefix and a deny everywhere else), and no one else put anything.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const inboxes = bucketsOf(args.resources).filter(
      (b) => typeChainOfUrn(b.urn).includes(CENTRAL_ANALYSIS_TYPE) && b.name.endsWith("-inbox"),
    );
    if (inboxes.length === 0) return args.notApplicable("the stack has no central inbox bucket");
    for (const bucket of inboxes) {
      const policies = companionsOf(bucket, args.resources, COMPANION.policy);
      if (policies.length === 0) {
        reportViolation(
          `inbox ${describeBucket(bucket)} has no bucket policy; add one that lets each environment put under inbox/<env>/ only`,
          bucket.urn,
        );
        continue;
      }
      for (const p of policies) {
        const text = str(p.props.policy);
        if (text === undefined) continue; // unknown during a preview of a new bucket
        const problems = inboxPolicyProblems(text);
        if (problems.length > 0)
          reportViolation(`inbox ${describeBucket(bucket)}: ${problems.join("; ")}`, p.urn);
      }
    }
  },
};
