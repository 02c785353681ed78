import type { ResourceValidationPolicy } from "@pulumi/policy";
import { containerProblems, reportProblems, workloadOf } from "../lib/kubernetes.js";
import { get, joinAnd } from "../lib/props.js";

const REQUIRED = [
  ["requests", "cpu"],
  ["requests", "memory"],
  ["limits", "cpu"],
  ["limits", "memory"],
] as const;

export const containerResources: ResourceValidationPolicy = {
  name: "container-resources",
  description:
    "Every container states CPU and memory requests and limits, so it fits its environment's quota and cannot starve its neighbours.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    const w = workloadOf(args);
    const problems = containerProblems(w.pod, (c) => {
      const missing = REQUIRED.filter(([kind, what]) => {
        const v = get(c.spec, ["resources", kind, what]);
        return v === undefined || v === null || v === "";
      }).map(([kind, what]) => `${kind}.${what}`);
      return missing.length > 0 ? `${c.label} has no ${joinAnd(missing)}` : undefined;
    });
    reportProblems(
      reportViolation,
      w,
      problems,
      "set resources.requests and resources.limits for cpu and memory on every container",
    );
  },
};
