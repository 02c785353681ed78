import type { ResourceValidationPolicy } from "@pulumi/policy";
import { containerProblems, isExempt, reportProblems, workloadOf } from "../lib/kubernetes.js";
import { EXEMPT_NAMESPACES_SCHEMA, type ExemptConfig } from "../lib/namespaces.js";
import { get, joinAnd } from "../lib/props.js";

export const containerReadOnlyRoot: ResourceValidationPolicy = {
  name: "container-read-only-root",
  description: "Every container's root filesystem is read-only; what it writes goes to a mounted volume.",
  enforcementLevel: "mandatory",
  configSchema: { properties: { exemptNamespaces: EXEMPT_NAMESPACES_SCHEMA } },
  validateResource: (args, reportViolation) => {
    const w = workloadOf(args);
    if (isExempt(w.meta, args.getConfig<ExemptConfig>())) return;
    const writable = containerProblems(w.pod, (c) =>
      get(c.spec, ["securityContext", "readOnlyRootFilesystem"]) !== true ? c.label : undefined,
    );
    if (writable.length === 0) return;
    const problem = `${joinAnd(writable)} ${writable.length === 1 ? "has" : "have"} a writable root filesystem`;
    reportProblems(
      reportViolation,
      w,
      [problem],
      "set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where it must write (/tmp)",
    );
  },
};
