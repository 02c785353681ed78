import { safeJson } from "../../../tiers/safe-text.js";
import type { CycleReport } from "../analysis/report-model.js";
import type { ReportFormat } from "./formats.js";
import { renderHtml } from "./html.js";
import { renderJunit } from "./junit.js";
import { renderMarkdown } from "./markdown.js";

export { REPORT_FORMATS, type ReportFormat } from "./formats.js";

/** The report in one of its four forms: HTML page, Markdown summary, JSON (everything), JUnit XML. */
export async function renderReport(report: CycleReport, format: ReportFormat): Promise<string> {
  switch (format) {
    case "html":
      return renderHtml(report);
    case "md":
      return renderMarkdown(report);
    case "json":
      return `${safeJson(report, 2)}\n`;
    case "junit":
      return renderJunit(report);
  }
}
