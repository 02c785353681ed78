/** IAM and resource policy documents of the central stack. Pure functions of plain strings. */
import { policy, type PolicyStatement } from "../cluster/iam-documents.js";
import { tlsOnlyStatement } from "../storage/bundle-policies.js";

/** Where environments put bundles in the inbox bucket: `inbox/<env id>/`. */
export const INBOX_PREFIX = "inbox/";
/** The keyring object the importer reads (written by the stack only). */
export const KEYRING_KEY = "config/keyring";
/** Where the report job writes: `reports/<cycle>/`. */
export const REPORTS_PREFIX = "reports/";

export const inboxPrefixOf = (environmentId: string): string => `${INBOX_PREFIX}${environmentId}/`;

export interface InboxWriter {
  /** The environment id whose prefix this principal writes. */
  readonly environment: string;
  /** The IAM role (an environment's bundle writer, or the runner carrying its bundles). */
  readonly principal: string;
}

/**
 * The inbox bucket's policy: TLS only; each writer may put objects under its own environment's
 * prefix and nowhere else (an allow on its prefix, and a deny on every other key, so a broader
 * grant on the role's side cannot widen it).
 */
export function inboxBucketPolicy(bucketArn: string, writers: readonly InboxWriter[]): string {
  const statements: PolicyStatement[] = [tlsOnlyStatement(bucketArn)];
  writers.forEach((w, i) => {
    statements.push(
      {
        Sid: `PutOwnPrefix${i}`,
        Effect: "Allow",
        Principal: { AWS: w.principal },
        Action: "s3:PutObject",
        Resource: `${bucketArn}/${inboxPrefixOf(w.environment)}*`,
      },
      {
        Sid: `DenyOtherPrefixes${i}`,
        Effect: "Deny",
        Principal: { AWS: w.principal },
        Action: "s3:PutObject",
        NotResource: `${bucketArn}/${inboxPrefixOf(w.environment)}*`,
      },
    );
  });
  return policy(...statements);
}

/** The reports bucket: TLS only; read with IAM credentials or a presigned URL. */
export function reportsBucketPolicy(bucketArn: string): string {
  return policy(tlsOnlyStatement(bucketArn));
}

/** S3 may send the inbox bucket's notifications to the queue, and nothing else may. */
export function queuePolicy(queueArn: string, bucketArn: string, accountId: string): string {
  return policy({
    Sid: "InboxNotifications",
    Effect: "Allow",
    Principal: { Service: "s3.amazonaws.com" },
    Action: "sqs:SendMessage",
    Resource: queueArn,
    Condition: {
      ArnEquals: { "aws:SourceArn": bucketArn },
      StringEquals: { "aws:SourceAccount": accountId },
    },
  });
}

/** The importer task: read, move and delete inbox objects, read the keyring, write reports, take notifications. */
export function importerTaskPolicy(inboxArn: string, reportsArn: string, queueArn: string): string {
  return policy(
    {
      Sid: "Inbox",
      Effect: "Allow",
      Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
      Resource: `${inboxArn}/${INBOX_PREFIX}*`,
    },
    { Sid: "Keyring", Effect: "Allow", Action: "s3:GetObject", Resource: `${inboxArn}/${KEYRING_KEY}` },
    {
      Sid: "ListInbox",
      Effect: "Allow",
      Action: "s3:ListBucket",
      Resource: inboxArn,
      Condition: { StringLike: { "s3:prefix": [INBOX_PREFIX, `${INBOX_PREFIX}*`] } },
    },
    { Sid: "Reports", Effect: "Allow", Action: "s3:PutObject", Resource: `${reportsArn}/${REPORTS_PREFIX}*` },
    {
      Sid: "Notifications",
      Effect: "Allow",
      Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
      Resource: queueArn,
    },
  );
}

/** The task execution role may read exactly the secrets its containers get. */
export function readSecretsPolicy(secretArns: readonly string[]): string {
  return policy({ Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: [...secretArns] });
}
