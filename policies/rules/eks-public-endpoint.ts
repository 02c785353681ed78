import type { ResourceValidationPolicy } from "@pulumi/policy";
import { EKS_CLUSTER_TYPE } from "../lib/aws.js";
import { list, record } from "../lib/props.js";

const EVERYWHERE = ["0.0.0.0/0", "::/0"];

export const eksPublicEndpoint: ResourceValidationPolicy = {
  name: "eks-public-endpoint",
  description:
    "An EKS cluster's API endpoint is public only behind a CIDR allow-list: publicAccessCidrs names the networks that may reach it, never 0.0.0.0/0.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    if (args.type !== EKS_CLUSTER_TYPE) return args.notApplicable("not an EKS cluster");
    const raw: unknown = args.props.vpcConfig;
    const vpc = record(Array.isArray(raw) ? (raw as unknown[])[0] : raw) ?? {};
    // AWS makes the endpoint public when endpointPublicAccess is not stated.
    if (vpc.endpointPublicAccess === false) return;
    const cidrs = list(vpc.publicAccessCidrs).filter((c): c is string => typeof c === "string");
    const open = cidrs.filter((c) => EVERYWHERE.includes(c));
    if (cidrs.length > 0 && open.length === 0) return;
    reportViolation(
      `cluster ${args.name} has a public API endpoint open to ${cidrs.length === 0 ? "every address (no publicAccessCidrs)" : open.join(" and ")}; list the networks that may reach it in publicAccessCidrs (stack config test-tiers:cluster.publicAccessCidrs) or set endpointPublicAccess: false`,
    );
  },
};
