/** The report formats, apart from their renderers so the CLI can list them without loading vega. */
export const REPORT_FORMATS = ["html", "md", "json", "junit"] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];
