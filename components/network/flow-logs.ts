import * as aws from "@pulumi/aws";
import type { Children } from "../shared/children.js";
import { policy, serviceTrustPolicy } from "../cluster/iam-documents.js";

/** VPC flow logs (all traffic, 1-minute aggregation) to a CloudWatch log group kept `retentionDays`. */
export function createFlowLogs(c: Children, vpc: aws.ec2.Vpc, retentionDays: number): void {
  const group = new aws.cloudwatch.LogGroup(
    c.name("flow-logs"),
    { retentionInDays: retentionDays, tags: { Name: c.name("flow-logs") } },
    c.opts(),
  );
  const role = new aws.iam.Role(
    c.name("flow-logs"),
    {
      assumeRolePolicy: serviceTrustPolicy("vpc-flow-logs.amazonaws.com"),
    },
    c.opts(),
  );
  new aws.iam.RolePolicy(
    c.name("flow-logs"),
    {
      role: role.id,
      policy: group.arn.apply((arn) =>
        policy({
          Effect: "Allow",
          Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
          Resource: [arn, `${arn}:*`],
        }),
      ),
    },
    c.opts(),
  );
  new aws.ec2.FlowLog(
    c.name("flow-logs"),
    {
      vpcId: vpc.id,
      trafficType: "ALL",
      logDestinationType: "cloud-watch-logs",
      logDestination: group.arn,
      iamRoleArn: role.arn,
      maxAggregationInterval: 60,
    },
    c.opts(),
  );
}
