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
    "Every RDS database (PostgreSQL for the central results) encrypts its storage, is not publicly accessible, sits in a DB subnet group (private subnets) and keeps automated backups.",
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
    if (args.type === "aws:rds/instance:Instance") {
      // Without a subnet group RDS places the instance in the default VPC, whose subnets are public.
      if (args.props.dbSubnetGroupName === undefined && args.props.replicateSourceDb === undefined)
        problems.push("it names no DB subnet group (set dbSubnetGroupName to a group of private subnets)");
      const backups: unknown = args.props.backupRetentionPeriod;
      if (typeof backups === "number" && backups < 1)
        problems.push("automated backups are off (set backupRetentionPeriod to 1 or more days)");
    }
    if (problems.length > 0) reportViolation(`${what}: ${problems.join("; ")}`);
  },
};
