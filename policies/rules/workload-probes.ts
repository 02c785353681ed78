import type { ResourceValidationPolicy } from "@pulumi/policy";
import { containerProblems, reportProblems, workloadOf } from "../lib/kubernetes.js";
import { joinAnd } from "../lib/props.js";

const PROBES = ["readinessProbe", "livenessProbe"] as const;

export const workloadProbes: ResourceValidationPolicy = {
  name: "workload-probes",
  description:
    "Every container of a long-running workload (Deployment, StatefulSet, DaemonSet, ReplicaSet) has a readiness and a liveness probe, so traffic waits for it and a hung one is restarted.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    const w = workloadOf(args, { longRunningOnly: true });
    const problems = containerProblems(
      w.pod,
      (c) => {
        const missing = PROBES.filter((p) => c.spec[p] === undefined || c.spec[p] === null);
        return missing.length > 0 ? `${c.label} has no ${joinAnd(missing)}` : undefined;
      },
      { initToo: false },
    );
    reportProblems(reportViolation, w, problems, "give every container a readinessProbe and a livenessProbe");
  },
};
