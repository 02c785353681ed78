import { mkdir, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { ExitCode, TiersError } from "../../tiers/errors.js";
import { escapeControls } from "../../tiers/safe-text.js";
import { listObjects, uploadFile } from "../../workloads/bundle/s3-store.js";
import type { CycleReport } from "../../workloads/central/analysis/report-model.js";
import { s3Url, type S3Location } from "../../workloads/central/import/s3-inbox.js";
import { REPORT_FORMATS, type ReportFormat } from "../../workloads/central/reports/formats.js";
import { PUBLISHED_REPORTS } from "../../workloads/central/reports/publish.js";
import type { Centre, CentreEvent } from "./centre.js";
import { REPORT_FILES } from "./handoff.js";

/**
 * A central stack's S3 inbox as the run's centre (`tiers run --central <stack|s3://…>`), apart from
 * `centre.ts` so the local target never loads the S3 client.
 */
export interface S3CentreOptions {
  readonly client: () => Promise<S3Client>;
  readonly inbox: S3Location;
  /** The central stack's report job's location; without it the run reports no figures. */
  readonly reports?: S3Location;
  /** What the run says it handed to (`central stack central (s3://…)`). */
  readonly description: string;
  /** How long to wait for the importer's verdict on each bundle. @default 600000 */
  readonly waitMs?: number;
  /** @default 2000 */
  readonly pollMs?: number;
}

/**
 * Where the watcher moved an inbox object, if it has: `<dir><name>`, or the `<stem>.N.tar.gz` it
 * chose when that name was taken (`s3-inbox.ts` freeKey). Lists only keys starting with the
 * bundle's own stem, so the poll costs the same however much the inbox's history holds.
 */
async function outcomeOf(
  client: S3Client,
  bucket: string,
  dir: string,
  name: string,
): Promise<string | undefined> {
  const stem = name.replace(/\.tar\.gz$/, "");
  const keys = (await listObjects(client, bucket, `${dir}${stem}`)).map((o) => o.key);
  return keys.find((k) => k === `${dir}${name}` || /^\.\d+\.tar\.gz$/.test(k.slice(`${dir}${stem}`.length)));
}

async function getText(client: S3Client, bucket: string, key: string, maxBytes: number): Promise<string> {
  const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const bytes = await res.Body!.transformToByteArray();
  if (bytes.length > maxBytes)
    throw new Error(
      `${s3Url(bucket, key)} is ${bytes.length} bytes, more than the ${maxBytes} a report may be`,
    );
  return new TextDecoder().decode(bytes);
}

/** A report object is at most this large (the JSON report of a long cycle is a few MiB). */
const MAX_REPORT_BYTES = 64 * 1024 * 1024;

/**
 * A central stack's inbox: each bundle is put under `<inbox><env>/` (sha256 checked by S3 and kept
 * as metadata), where only that environment may write; then the runner waits until the stack's
 * importer has moved it to `imported/` or `rejected/` (reading the reason it left), and fetches the
 * reports its report job wrote for the cycle once they hold every imported environment.
 */
export function s3InboxCentre(options: S3CentreOptions): Centre {
  const waitMs = options.waitMs ?? 600_000;
  const pollMs = options.pollMs ?? 2000;
  const { inbox } = options;
  return {
    description: options.description,
    async take(run, say, signal) {
      const client = await options.client();
      const pending = new Map<string, { file: string; environment: string; name: string }>();
      const events: CentreEvent[] = [];
      for (const r of run.retrieved) {
        const name = basename(r.file);
        const key = `${inbox.prefix}${r.environment}/${name}`;
        try {
          await uploadFile(client, { bucket: inbox.bucket, key, file: r.file, signal });
          pending.set(key, { file: r.file, environment: r.environment, name });
          say(`${r.environment}: bundle ${r.bundleId.slice(0, 12)} put to ${s3Url(inbox.bucket, key)}`);
        } catch (error) {
          events.push({ kind: "deferred", file: r.file, error: error as Error });
        }
      }
      const deadline = Date.now() + waitMs;
      while (pending.size > 0 && !signal.aborted) {
        for (const [key, p] of pending) {
          const rel = `${p.environment}/`;
          const done = await outcomeOf(client, inbox.bucket, `${inbox.prefix}imported/${rel}`, p.name);
          if (done) {
            events.push({ kind: "imported", file: p.file, environment: p.environment });
            say(`${p.environment}: imported by the centre (${s3Url(inbox.bucket, done)})`);
            pending.delete(key);
            continue;
          }
          const refused = await outcomeOf(client, inbox.bucket, `${inbox.prefix}rejected/${rel}`, p.name);
          if (refused) {
            const text = await getText(client, inbox.bucket, `${refused}.reason.txt`, 64 * 1024).catch(
              () => "unknown: no reason file beside the refused bundle",
            );
            const field = (name: string) => new RegExp(`^${name}: (.*)$`, "m").exec(text)?.[1];
            const reason = escapeControls(field("reason") ?? "unknown");
            const detail = escapeControls(field("message") ?? text.trim());
            events.push({ kind: "rejected", file: p.file, reason, detail });
            say(`${p.environment}: refused by the centre (${reason}) → ${s3Url(inbox.bucket, refused)}`);
            pending.delete(key);
          }
        }
        if (pending.size === 0) break;
        if (Date.now() >= deadline) break;
        await sleep(pollMs, undefined, { signal }).catch(() => undefined);
      }
      for (const [key, p] of pending)
        events.push({
          kind: "deferred",
          file: p.file,
          error: new Error(
            signal.aborted
              ? `interrupted before the centre took ${s3Url(inbox.bucket, key)}; it stays in the inbox`
              : `the centre had not taken ${s3Url(inbox.bucket, key)} after ${Math.round(waitMs / 1000)} s; it stays in the inbox for the importer`,
          ),
        });

      const environments = new Set(events.filter((e) => e.kind === "imported").map((e) => e.environment));
      if (environments.size === 0 || !options.reports) return { events, report: null, reports: {} };
      const report = await waitForReport(client, options.reports, run.cycleId, environments, {
        deadline,
        pollMs,
        signal,
      });
      if (!report) {
        say(
          `the centre's reports of cycle ${run.cycleId} did not appear under ${s3Url(options.reports.bucket, `${options.reports.prefix}${run.cycleId}/`)}`,
        );
        return { events, report: null, reports: {} };
      }
      await mkdir(run.reportDir, { recursive: true });
      const reports: Partial<Record<ReportFormat, string>> = {};
      for (const format of run.formats ?? REPORT_FORMATS) {
        const key = `${options.reports.prefix}${run.cycleId}/${PUBLISHED_REPORTS[format].file}`;
        const path = join(run.reportDir, REPORT_FILES[format]);
        await writeFile(path, await getText(client, options.reports.bucket, key, MAX_REPORT_BYTES));
        reports[format] = path;
      }
      return { events, report, reports };
    },
  };
}

/** The cycle's JSON report once it holds every environment the centre imported; null at the deadline. */
async function waitForReport(
  client: S3Client,
  reports: S3Location,
  cycleId: string,
  environments: ReadonlySet<string>,
  wait: { readonly deadline: number; readonly pollMs: number; readonly signal: AbortSignal },
): Promise<CycleReport | null> {
  const key = `${reports.prefix}${cycleId}/${PUBLISHED_REPORTS.json.file}`;
  for (;;) {
    try {
      const report = JSON.parse(await getText(client, reports.bucket, key, MAX_REPORT_BYTES)) as CycleReport;
      const have = new Set(report.environments.map((e) => e.environment_id));
      if ([...environments].every((e) => have.has(e))) return report;
    } catch (error) {
      if ((error as Error).name !== "NoSuchKey" && !(error instanceof SyntaxError))
        throw new TiersError(
          ExitCode.Infrastructure,
          `read ${s3Url(reports.bucket, key)}: ${(error as Error).name}: ${(error as Error).message}`,
          { cause: error },
        );
    }
    if (Date.now() >= wait.deadline || wait.signal.aborted) return null;
    await sleep(wait.pollMs, undefined, { signal: wait.signal }).catch(() => undefined);
  }
}
