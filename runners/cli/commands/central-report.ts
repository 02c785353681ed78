/** `tiers central report` and `compare`: loaded only when a command runs (see central.ts). */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { ExitCode, TiersError } from "../../../tiers/errors.js";
import { countVerdicts } from "../../../workloads/central/analysis/compare.js";
import { compareRuns } from "../../../workloads/central/analysis/comparisons.js";
import { buildCycleReport } from "../../../workloads/central/analysis/cycle-report.js";
import { groupSamples, loadCycle, samplesOf } from "../../../workloads/central/analysis/queries.js";
import { fmt, pct, pValue } from "../../../workloads/central/reports/format.js";
import { REPORT_FORMATS, type ReportFormat } from "../../../workloads/central/reports/formats.js";
import { renderReport } from "../../../workloads/central/reports/render.js";
import { renderTable } from "../../format/table.js";
import type { CompareFlags, ReportFlags } from "./central.js";
import { openResultsDb } from "../../../workloads/central/db/open.js";
import { resolveDbFlag } from "../../cluster/central-stack.js";

function formatOf(flag: string | undefined): ReportFormat {
  const format = flag ?? "html";
  if (!(REPORT_FORMATS as readonly string[]).includes(format))
    throw new TiersError(ExitCode.Usage, `--format ${format}: expected one of ${REPORT_FORMATS.join(", ")}`);
  return format as ReportFormat;
}

export async function runReport(cycle: string | undefined, flags: ReportFlags): Promise<void> {
  const format = formatOf(flags.format);
  const cdb = await openResultsDb(await resolveDbFlag(flags.db), false);
  let text: string;
  try {
    const report = await buildCycleReport(cdb.db, {
      ...(cycle !== undefined ? { cycleId: cycle } : {}),
      ...(flags.baseline !== undefined ? { baseline: flags.baseline } : {}),
    });
    text = await renderReport(report, format);
  } finally {
    await cdb.close();
  }
  if (flags.out === undefined) process.stdout.write(text);
  else {
    await mkdir(dirname(flags.out), { recursive: true });
    await writeFile(flags.out, text);
    process.stderr.write(`wrote ${flags.out} (${format}, ${Buffer.byteLength(text)} bytes)\n`);
  }
}

export async function runCompare(a: string, b: string, flags: CompareFlags): Promise<void> {
  const cdb = await openResultsDb(await resolveDbFlag(flags.db), false);
  try {
    const baseline = await loadCycle(cdb.db, a);
    const candidate = await loadCycle(cdb.db, b);
    const keys = [...baseline.bundles, ...candidate.bundles].map((x) => x.bundle_key);
    const changes = compareRuns(
      baseline.bundles,
      candidate.bundles,
      groupSamples(await samplesOf(cdb.db, keys)),
    );
    const counts = countVerdicts(changes);
    const shown = flags.all ? changes : changes.filter((c) => c.verdict !== "unchanged");
    process.stdout.write(
      `${a} → ${b}: ${counts.regressed} regressed, ${counts.improved} improved, ${counts.changed} changed, ${counts.unchanged} unchanged, ${counts.insufficient_data} with too few samples\n\n`,
    );
    if (shown.length > 0)
      process.stdout.write(
        `${renderTable(
          [
            { header: "verdict" },
            { header: "env" },
            { header: "phase" },
            { header: "metric" },
            { header: "baseline p50", align: "right" },
            { header: "candidate p50", align: "right" },
            { header: "change", align: "right" },
            { header: "p adj.", align: "right" },
            { header: "Cliff's δ", align: "right" },
          ],
          shown.map((c) => [
            c.verdict,
            c.environment,
            c.phase,
            c.metric,
            fmt(c.baseline.median),
            fmt(c.candidate.median),
            pct(c.relativeChange),
            pValue(c.pAdjusted),
            fmt(c.cliffsDelta),
          ]),
        )}\n`,
      );
    else if (changes.length === 0)
      process.stdout.write("no environment and phase in common: nothing to compare\n");
    else process.stdout.write("no metric changed beyond noise (use --all to list them)\n");
  } finally {
    await cdb.close();
  }
}
