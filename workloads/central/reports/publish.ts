import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { ExitCode, TiersError } from "../../../tiers/errors.js";
import { buildCycleReport } from "../analysis/cycle-report.js";
import type { CentralDb } from "../db/connect.js";
import { REPORT_FORMATS, type ReportFormat } from "./formats.js";
import { renderReport } from "./render.js";

/** File name and content type of each format in the reports bucket. */
export const PUBLISHED_REPORTS: Readonly<Record<ReportFormat, { file: string; contentType: string }>> = {
  html: { file: "report.html", contentType: "text/html; charset=utf-8" },
  md: { file: "report.md", contentType: "text/markdown; charset=utf-8" },
  json: { file: "report.json", contentType: "application/json" },
  junit: { file: "junit.xml", contentType: "application/xml" },
};

/**
 * The central stack's report job: the cycle's reports in every format, written to
 * `s3://<bucket>/<prefix><cycle>/…`. Run after each imported bundle, so a cycle's reports are
 * rewritten as its environments' bundles arrive and hold every environment once the last one is
 * in. The bucket is private: reports are read with IAM credentials, or through a presigned URL
 * (`aws s3 presign s3://<bucket>/<prefix><cycle>/report.html`).
 */
export async function publishCycleReports(
  cdb: CentralDb,
  client: S3Client,
  target: { readonly bucket: string; readonly prefix: string },
  cycleId: string,
): Promise<string[]> {
  const report = await buildCycleReport(cdb.db, { cycleId });
  const written: string[] = [];
  for (const format of REPORT_FORMATS) {
    const { file, contentType } = PUBLISHED_REPORTS[format];
    const key = `${target.prefix}${cycleId}/${file}`;
    const body = await renderReport(report, format);
    try {
      await client.send(
        new PutObjectCommand({ Bucket: target.bucket, Key: key, Body: body, ContentType: contentType }),
      );
    } catch (error) {
      throw new TiersError(
        ExitCode.Infrastructure,
        `write report s3://${target.bucket}/${key}: ${(error as Error).name}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    written.push(`s3://${target.bucket}/${key}`);
  }
  return written;
}
