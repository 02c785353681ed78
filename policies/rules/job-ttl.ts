import type { ResourceValidationPolicy } from "@pulumi/policy";
import { jobTtlProblem } from "../lib/jobs.js";
import { describeObject, metadataOf } from "../lib/kubernetes.js";

/**
 * Jobs clean up after themselves. With container-resources and container-non-root (which already
 * check a Job's and a CronJob's pod template) this is the pack's rule for batch/v1 Jobs; `jobProblems`
 * applies all three to a Job body the orchestrator renders at run time (the load Jobs).
 */
export const jobTtl: ResourceValidationPolicy = {
  name: "job-ttl",
  description:
    "Every Job (and every CronJob's job template) sets ttlSecondsAfterFinished, so finished Jobs and their pods are deleted instead of piling up in the environment's quota.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    const problem = jobTtlProblem(args.type, args.props);
    if (problem === null) return args.notApplicable("not a Job or CronJob");
    if (problem)
      reportViolation(
        `${describeObject(args.type, metadataOf(args.props, args.name))}: ${problem}; set spec.ttlSecondsAfterFinished (seconds, e.g. 3600)`,
      );
  },
};
