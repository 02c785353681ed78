import type { ResourceValidationPolicy } from "@pulumi/policy";
import { describeResource } from "../lib/kubernetes.js";

const CHECKS: Readonly<Record<string, { readonly encrypted: boolean; readonly private: boolean }>> = {
  "aws:rds/instance:Instance": { encrypted: true, private: true },
  "aws:rds/cluster:Cluster": { encrypted: true, private: false },
  "aws:rds/clusterInstance:ClusterInstance": { encrypted: false, private: true },
};

export const rdsEncryptedPrivate: ResourceValidationPolicy = {
  name: "rds-encrypted-private",
  description:
    "Every RDS database (PostgreSQL for the central results) encrypts its storage and is not publicly accessible.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    const check = CHECKS[args.type];
    if (!check) return args.notApplicable("not an RDS instance or cluster");
    const what = `RDS ${describeResource(args.type, args.props, args.name)}`;
    const problems: string[] = [];
    if (check.encrypted && args.props.storageEncrypted !== true)
      problems.push("storage is not encrypted (set storageEncrypted: true)");
    if (check.private && args.props.publiclyAccessible === true)
      problems.push("it is publicly accessible (set publiclyAccessible: false)");
    if (problems.length > 0) reportViolation(`${what}: ${problems.join("; ")}`);
  },
};
