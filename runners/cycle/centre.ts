import type { CycleReport } from "../../workloads/central/analysis/report-model.js";
import type { CentralDb } from "../../workloads/central/db/connect.js";
import type { ReportFormat } from "../../workloads/central/reports/formats.js";
import { importAndReport, type CentralRunOptions, type Retrieved } from "./handoff.js";

/** What the centre did with one bundle of the run. */
export type CentreEvent =
  | { readonly kind: "imported"; readonly file: string; readonly environment: string }
  | { readonly kind: "rejected"; readonly file: string; readonly reason: string; readonly detail: string }
  | { readonly kind: "deferred"; readonly file: string; readonly error: Error };

export interface CentreRun {
  readonly events: readonly CentreEvent[];
  readonly report: CycleReport | null;
  readonly reports: Readonly<Partial<Record<ReportFormat, string>>>;
}

/**
 * The centre a run hands its bundles to (`--central`): the results database the runner imports
 * into itself, or a central stack's S3 inbox, whose importer service imports them and whose report
 * job writes the reports. Either way the run ends with each bundle imported, refused with its
 * reason, or not taken (said so), and the cycle's report when there is one.
 */
export interface Centre {
  /** Where the bundles went, for the run's last lines (`3 bundles imported into …`). */
  readonly description: string;
  take(
    options: CentralRunOptions & { readonly retrieved: readonly Retrieved[] },
    say: (line: string) => void,
    signal: AbortSignal,
  ): Promise<CentreRun>;
}

/** The runner imports into the results database it opened before the run (SQLite or PostgreSQL). */
export function databaseCentre(cdb: CentralDb, location: string): Centre {
  return {
    description: location,
    async take(options) {
      const run = await importAndReport(cdb, options);
      return {
        report: run.report,
        reports: run.reports,
        events: run.events.map((e): CentreEvent => {
          if (e.kind === "imported")
            return { kind: "imported", file: e.outcome.file, environment: e.outcome.environment };
          if (e.kind === "rejected")
            return { kind: "rejected", file: e.file, reason: e.reason, detail: e.detail };
          return {
            kind: "deferred",
            file: e.file,
            error: e.error instanceof Error ? e.error : new Error(String(e.error)),
          };
        }),
      };
    },
  };
}
