import type { ResourceValidationPolicy } from "@pulumi/policy";
import { containerProblems, isExempt, reportProblems, workloadOf } from "../lib/kubernetes.js";
import { EXEMPT_NAMESPACES_SCHEMA, type ExemptConfig } from "../lib/namespaces.js";
import { get } from "../lib/props.js";

export const containerNonRoot: ResourceValidationPolicy = {
  name: "container-non-root",
  description:
    "Every container runs as a non-root user: runAsNonRoot is true (on the container or its pod) and runAsUser, where set, is not 0.",
  enforcementLevel: "mandatory",
  configSchema: { properties: { exemptNamespaces: EXEMPT_NAMESPACES_SCHEMA } },
  validateResource: (args, reportViolation) => {
    const w = workloadOf(args);
    if (isExempt(w.meta, args.getConfig<ExemptConfig>())) return;
    const setting = (c: { spec: Record<string, unknown> }, key: string): unknown =>
      get(c.spec, ["securityContext", key]) ?? get(w.pod, ["securityContext", key]);
    const problems = containerProblems(w.pod, (c) => {
      const user = setting(c, "runAsUser");
      if (user === 0 || user === "0") return `${c.label} runs as uid 0`;
      return setting(c, "runAsNonRoot") !== true
        ? `${c.label} may run as root (runAsNonRoot is not true)`
        : undefined;
    });
    reportProblems(
      reportViolation,
      w,
      problems,
      "set securityContext.runAsNonRoot: true and a non-zero runAsUser",
    );
  },
};
