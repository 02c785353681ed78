import type { ResourceValidationPolicy } from "@pulumi/policy";
import { EKS_CLUSTER_TYPE } from "../lib/aws.js";
import { joinAnd, list } from "../lib/props.js";

interface Config {
  readonly requiredLogTypes: readonly string[];
}

export const eksControlPlaneLogging: ResourceValidationPolicy = {
  name: "eks-control-plane-logging",
  description:
    "Every EKS cluster sends its control-plane logs to CloudWatch: at least the API server, audit and authenticator logs.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      requiredLogTypes: {
        type: "array",
        items: { type: "string", enum: ["api", "audit", "authenticator", "controllerManager", "scheduler"] },
        uniqueItems: true,
        default: ["api", "audit", "authenticator"],
        description: "Control-plane log types every cluster must enable.",
      },
    },
  },
  validateResource: (args, reportViolation) => {
    if (args.type !== EKS_CLUSTER_TYPE) return args.notApplicable("not an EKS cluster");
    const { requiredLogTypes } = args.getConfig<Config>();
    const enabled = list(args.props.enabledClusterLogTypes);
    const missing = requiredLogTypes.filter((t) => !enabled.includes(t));
    if (missing.length === 0) return;
    reportViolation(
      `cluster ${args.name} does not log ${joinAnd(missing)}; add ${missing.length === 1 ? "it" : "them"} to enabledClusterLogTypes (stack config test-tiers:cluster.logTypes)`,
    );
  },
};
