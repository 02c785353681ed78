import { S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";

/**
 * Clients for the central stack's bucket and queue, configured as every AWS tool is: credentials
 * and region from the environment or the instance/task role, `AWS_ENDPOINT_URL_S3` /
 * `AWS_ENDPOINT_URL_SQS` for another S3 or SQS API (a loopback server in tests), and
 * `TIERS_S3_FORCE_PATH_STYLE=true` for servers without virtual-hosted buckets.
 */
export function centralS3Client(env: NodeJS.ProcessEnv = process.env): S3Client {
  return new S3Client({
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? "us-east-1",
    forcePathStyle: env.TIERS_S3_FORCE_PATH_STYLE === "true",
  });
}

export function centralSqsClient(env: NodeJS.ProcessEnv = process.env): SQSClient {
  return new SQSClient({ region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? "us-east-1" });
}
