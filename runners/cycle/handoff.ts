import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { loadKeyring } from "../../workloads/bundle/keyring.js";
import { ExitCode, TiersError } from "../../tiers/errors.js";
import type { CentralDb } from "../../workloads/central/db/connect.js";
import { openResultsDb } from "../../workloads/central/db/open.js";
import { buildCycleReport } from "../../workloads/central/analysis/cycle-report.js";
import type { CycleReport } from "../../workloads/central/analysis/report-model.js";
import { importInbox, type InboxEvent } from "../../workloads/central/import/inbox.js";
import { REPORT_FORMATS, type ReportFormat } from "../../workloads/central/reports/formats.js";
import { renderReport } from "../../workloads/central/reports/render.js";
import { API_BUNDLE_SOURCE } from "./bundle-source.js";
import type { EnvironmentHandle } from "./drive.js";
import type { EnvironmentView } from "./progress-display.js";

/** A bundle retrieved from an environment and handed over into the central inbox. */
export interface Retrieved {
  readonly environment: string;
  readonly bundleId: string;
  readonly file: string;
  readonly size: number;
}

/**
 * Retrieves each finished environment's bundle through its API (export, then download) into the
 * central inbox: the only path from an environment to the centre. An environment that failed, or
 * whose export fails, is reported in `problems` and the others go on.
 */
export async function retrieveBundles(
  environments: readonly EnvironmentHandle[],
  views: readonly EnvironmentView[],
  inbox: string,
  onEvent?: (line: string) => void,
): Promise<{ retrieved: Retrieved[]; problems: Map<string, string> }> {
  await mkdir(inbox, { recursive: true });
  const retrieved: Retrieved[] = [];
  const problems = new Map<string, string>();
  await Promise.all(
    environments.map(async (e, i) => {
      const view = views[i]!;
      if (view.failure !== null || view.status === null) {
        problems.set(e.id, `no bundle: ${view.failure ?? "the cycle never started"}`);
        return;
      }
      try {
        const info = await e.client.exportBundle(view.status.cycle_id);
        const file = join(inbox, `${info.cycle_id}--${e.id}--${info.bundle_id.slice(0, 12)}.tar.gz`);
        const source = e.bundles ?? API_BUNDLE_SOURCE;
        const size = await source.fetch(e.client, info, file);
        retrieved.push({ environment: e.id, bundleId: info.bundle_id, file, size });
        onEvent?.(
          `${e.id}: bundle ${info.bundle_id.slice(0, 12)} (${size} bytes) from ${source.description} handed over to ${inbox}`,
        );
      } catch (error) {
        problems.set(e.id, `bundle not retrieved: ${(error as Error).message}`);
        onEvent?.(`${e.id}: ${problems.get(e.id)}`);
      }
    }),
  );
  return { retrieved, problems };
}

export interface CentralRunOptions {
  /** The inbox the bundles were handed into. */
  readonly inbox: string;
  /** The keyring of the environments whose bundles the centre trusts for this run. */
  readonly keyringFile: string;
  readonly cycleId: string;
  readonly reportDir: string;
  readonly formats?: readonly ReportFormat[];
  /** Alerts the run's monitoring reported (`tiers local --monitoring`): a report section. */
  readonly monitoring?: NonNullable<CycleReport["monitoring"]>;
}

export interface CentralRun {
  readonly events: readonly InboxEvent[];
  readonly report: CycleReport | null;
  readonly reports: Readonly<Partial<Record<ReportFormat, string>>>;
}

/** File name of each report format. */
export const REPORT_FILES: Readonly<Record<ReportFormat, string>> = {
  html: "report.html",
  md: "report.md",
  json: "report.json",
  junit: "report.junit.xml",
};

/** Writes the keyring of a run's environments (the runner that created them enrols their keys). */
export async function writeRunKeyring(
  file: string,
  cycleId: string,
  lines: readonly string[],
): Promise<void> {
  const text = `# environments of cycle ${cycleId}, enrolled by the runner that created them\n${lines.join("\n")}\n`;
  await writeFile(file, text, { mode: 0o644 });
}

/**
 * The centre's part, on an open, migrated results database: import every bundle of the inbox
 * (verified against the keyring, one transaction each), then analyse the cycle and write its
 * reports. No report when nothing of the cycle was imported.
 */
export async function importAndReport(cdb: CentralDb, options: CentralRunOptions): Promise<CentralRun> {
  const keyring = await loadKeyring(options.keyringFile);
  const events = await importInbox(cdb, { dir: options.inbox, keyring });
  const imported = events.some((e) => e.kind === "imported" && e.outcome.cycleId === options.cycleId);
  if (!imported) return { events, report: null, reports: {} };
  const built = await buildCycleReport(cdb.db, { cycleId: options.cycleId });
  const report = options.monitoring ? { ...built, monitoring: options.monitoring } : built;
  await mkdir(options.reportDir, { recursive: true });
  const reports: Partial<Record<ReportFormat, string>> = {};
  for (const format of options.formats ?? REPORT_FORMATS) {
    const path = join(options.reportDir, REPORT_FILES[format]);
    await writeFile(path, await renderReport(report, format));
    reports[format] = path;
  }
  return { events, report, reports };
}

/**
 * Opens (and migrates) the results database before a run starts anything, so a wrong database
 * fails now, not after the run.
 */
export async function openRunDatabase(location: string): Promise<CentralDb> {
  try {
    return await openResultsDb(location, true);
  } catch (error) {
    if (error instanceof TiersError) throw error;
    throw new TiersError(
      ExitCode.Infrastructure,
      `the results database ${location} cannot be opened: ${(error as Error).message}; nothing was started`,
    );
  }
}
