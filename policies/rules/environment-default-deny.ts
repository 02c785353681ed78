import type { StackValidationPolicy } from "@pulumi/policy";
import { environmentNamespaces, metadataOf, NETWORK_POLICY_TYPE } from "../lib/kubernetes.js";
import { get, list, record, type Props } from "../lib/props.js";

type Direction = "Ingress" | "Egress";

/**
 * The directions a NetworkPolicy denies outright: it selects every pod (`podSelector: {}`) and
 * names the direction in `policyTypes` without a rule for it. Policies are additive, so such a
 * policy makes every other policy of the namespace an explicit allowance.
 */
export function deniedDirections(props: Props): Direction[] {
  const spec = record(props.spec) ?? {};
  const selector = record(spec.podSelector);
  const selectsAll =
    selector !== undefined &&
    Object.keys(record(selector.matchLabels) ?? {}).length === 0 &&
    list(selector.matchExpressions).length === 0;
  if (!selectsAll) return [];
  // Kubernetes' default when policyTypes is unset: Ingress, plus Egress if egress rules exist.
  const types = Array.isArray(spec.policyTypes)
    ? (spec.policyTypes as unknown[])
    : ["Ingress", ...(spec.egress !== undefined ? ["Egress"] : [])];
  return (["Ingress", "Egress"] as const).filter(
    (d) => types.includes(d) && list(get(spec, [d.toLowerCase()])).length === 0,
  );
}

export const environmentDefaultDeny: StackValidationPolicy = {
  name: "environment-default-deny",
  description:
    "Every environment namespace denies all ingress and egress by default: a NetworkPolicy selects every pod and allows nothing, so each other policy is an explicit allowance.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const envs = environmentNamespaces(args.resources);
    if (envs.size === 0) return args.notApplicable("the stack has no environment namespace");
    const denied = new Map<string, Set<Direction>>();
    for (const r of args.resources) {
      if (r.type !== NETWORK_POLICY_TYPE) continue;
      const ns = metadataOf(r.props, r.name).namespace;
      const set = denied.get(ns) ?? new Set<Direction>();
      for (const d of deniedDirections(r.props)) set.add(d);
      denied.set(ns, set);
    }
    for (const [ns, r] of envs) {
      const missing = (["Ingress", "Egress"] as const).filter((d) => !denied.get(ns)?.has(d));
      if (missing.length === 0) continue;
      const what = missing.map((d) => d.toLowerCase()).join(" and ");
      reportViolation(
        `namespace ${ns} has no NetworkPolicy that denies all ${what}; add one with podSelector: {}, policyTypes: [${missing.join(", ")}] and no ${missing.map((d) => d.toLowerCase()).join(" or ")} rules`,
        r.urn,
      );
    }
  },
};
