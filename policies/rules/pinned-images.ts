import type { ResourceValidationPolicy } from "@pulumi/policy";
import { imagePinProblem, PINNED_IMAGE_EXPECTED } from "../../tiers/infra/image-ref.js";
import { containerProblems, reportProblems, workloadOf } from "../lib/kubernetes.js";
import { str } from "../lib/props.js";

export const pinnedImages: ResourceValidationPolicy = {
  name: "pinned-images",
  description:
    "Every container image is pinned to a version tag or a digest: never latest, never untagged, so a run can be repeated.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    const w = workloadOf(args);
    const problems = containerProblems(w.pod, (c) => {
      const image = str(c.spec.image);
      if (image === undefined) return `${c.label} has no image`;
      const problem = imagePinProblem(image);
      return problem ? `${c.label}: image ${JSON.stringify(image)} ${problem}` : undefined;
    });
    reportProblems(reportViolation, w, problems, `use ${PINNED_IMAGE_EXPECTED}`);
  },
};
