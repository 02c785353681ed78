import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { ExitCode, TiersError } from "../../../tiers/errors.js";

/** What wakes an S3 inbox watcher: the next notification, or `timeoutMs` without one. */
export interface InboxNotifications {
  /** Where they come from, for the watcher's first line (`SQS queue https://…`). */
  readonly description: string;
  next(timeoutMs: number, signal: AbortSignal): Promise<void>;
}

/**
 * S3 bucket notifications delivered to an SQS queue (the central stack wires `s3:ObjectCreated:*`
 * under the inbox prefix to it). A message only wakes a scan — the scan lists the prefix and
 * leases each object, so a duplicate or lost message changes nothing but latency — and is deleted
 * once received. Long polling (at most 20 s per request, SQS's limit) until `timeoutMs` is up.
 */
export function sqsNotifications(client: SQSClient, queueUrl: string): InboxNotifications {
  return {
    description: `SQS queue ${queueUrl}`,
    async next(timeoutMs, signal) {
      const until = Date.now() + timeoutMs;
      while (!signal.aborted && Date.now() < until) {
        const wait = Math.max(1, Math.min(20, Math.ceil((until - Date.now()) / 1000)));
        let messages;
        try {
          const got = await client.send(
            new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: wait, MaxNumberOfMessages: 10 }),
            { abortSignal: signal },
          );
          messages = got.Messages ?? [];
        } catch (error) {
          if (signal.aborted) return;
          throw new TiersError(
            ExitCode.Infrastructure,
            `receive from SQS queue ${queueUrl}: ${(error as Error).name}: ${(error as Error).message}`,
            { cause: error },
          );
        }
        const handles = messages.flatMap((m, i) =>
          m.ReceiptHandle ? [{ Id: String(i), ReceiptHandle: m.ReceiptHandle }] : [],
        );
        if (handles.length > 0) {
          await client
            .send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: handles }))
            .catch(() => undefined); // not deleted → redelivered → one more scan, nothing else
          return;
        }
      }
    },
  };
}
