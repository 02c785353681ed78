/**
 * A report over 1,000 stored cycles × 7 phases × 20 metrics, on SQLite and PostgreSQL side by
 * side: time to build the analysis (history with change points over 1,000 runs, baseline
 * comparison, peers) and to render each format, and the HTML's size (targets: ≤ 3 s, ≤ 3 MB).
 * 999 cycles are written straight into the tables (their summaries are what a report reads);
 * the latest is a real bundle imported with its samples, so its charts have data. Prints figures.
 *
 *   npm run bench -- central-report [cycles]      (default 1000)
 */
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { execa } from "execa";
import type { Insertable } from "kysely";
import { seededRandom } from "../../tiers/plan/random.js";
import { loadKeyring } from "../../workloads/bundle/keyring.js";
import { buildCycleReport } from "../../workloads/central/analysis/cycle-report.js";
import { openCentralDb, type CentralDb } from "../../workloads/central/db/connect.js";
import { migrateToLatest } from "../../workloads/central/db/migrate.js";
import type { CentralDatabase } from "../../workloads/central/db/schema.js";
import { importBundle } from "../../workloads/central/import/import-bundle.js";
import { gateRows, phaseRows } from "../../workloads/central/import/rows.js";
import { REPORT_FORMATS, renderReport } from "../../workloads/central/reports/render.js";
import { makeKeys, writeCycleBundle } from "../support/bundles.js";
import { generateCycle, SAMPLE_SERIES } from "../support/cycle-data.js";
import { createPgDatabase, dropPgDatabase } from "../support/databases.js";
import { tempDir } from "../support/temp.js";

const CYCLES = Number(process.argv[2] ?? 1000);
const TIME_SCALE = 0.05;
const RESULT_METRICS = [
  "rps",
  "requests",
  "latency_p50",
  "latency_p90",
  "latency_p95",
  "latency_p99",
  "latency_max",
  "errors",
  "error_rate",
]
  .map((m) => `http_probe:${m}`)
  .concat(["load:rps", "load:latency_p99", "load:error_rate"]);
const METRICS = [...SAMPLE_SERIES, ...RESULT_METRICS]; // 8 + 12 = 20

const dir = await tempDir("tiers-bench-report-");
const pgDatabases: string[] = [];
const seconds = (t0: number) => (performance.now() - t0) / 1000;
const CLI = join(import.meta.dirname, "..", "..", "bin", "tiers.js");
const cli: Record<string, number> = {};

/** Writes `count` earlier cycles' rows directly, shaped like the real one, with a latency step at 60 %. */
async function fillHistory(
  cdb: CentralDb,
  latest: ReturnType<typeof generateCycle>,
  count: number,
): Promise<void> {
  const random = seededRandom(7);
  const day = 86_400_000;
  const end = Date.parse(latest.summary.started_at);
  const insert = async <T extends keyof CentralDatabase>(
    trx: Parameters<Parameters<CentralDb["transaction"]>[0]>[0],
    table: T,
    rows: Insertable<CentralDatabase[T]>[],
  ) => {
    const per = Math.floor(30_000 / Object.keys(rows[0]!).length);
    for (let i = 0; i < rows.length; i += per)
      await trx
        .insertInto(table)
        .values(rows.slice(i, i + per))
        .execute();
  };
  await cdb.transaction(async (trx) => {
    await trx
      .insertInto("environments")
      .values({
        environment_id: latest.env.id,
        name: latest.env.name,
        first_seen_at: new Date(end).toISOString(),
      })
      .execute();
    for (let from = 0; from < count; from += 100) {
      const cycles: Insertable<CentralDatabase["cycles"]>[] = [];
      const bundles: Insertable<CentralDatabase["bundles"]>[] = [];
      for (let i = from; i < Math.min(count, from + 100); i++) {
        const started = new Date(end - (count - i) * day).toISOString();
        cycles.push({
          cycle_id: `h${String(i).padStart(4, "0")}`,
          tier: latest.summary.tier,
          suite_id: latest.summary.suite_id,
          plan_hash: latest.plan.hash,
          started_at: started,
          first_imported_at: started,
        });
        bundles.push({
          bundle_id: randomUUID(),
          cycle_id: `h${String(i).padStart(4, "0")}`,
          environment_id: latest.env.id,
          tier: latest.summary.tier,
          suite_id: latest.summary.suite_id,
          region: latest.env.region,
          region_role: latest.env.role,
          plan_hash: latest.plan.hash,
          config_hash: latest.plan.hash,
          created_at: started,
          started_at: started,
          ended_at: started,
          status: "completed",
          verdict: "passed",
          reason: null,
          saturation_rps: 2400,
          calibration: null,
          tools: "[]",
          key_id: "0".repeat(64),
          archive_sha256: "0".repeat(64),
          archive_bytes: 0,
          manifest: "{}",
          results_count: 0,
          samples_count: 0,
          events_count: 0,
          imported_at: started,
        });
      }
      await insert(trx, "cycles", cycles);
      const keys = await trx
        .insertInto("bundles")
        .values(bundles)
        .returning(["bundle_key", "cycle_id"])
        .execute();
      const phases: Insertable<CentralDatabase["phases"]>[] = [];
      const gates: Insertable<CentralDatabase["gate_verdicts"]>[] = [];
      const stats: Insertable<CentralDatabase["metric_stats"]>[] = [];
      for (const { bundle_key, cycle_id } of keys) {
        const slow = Number(cycle_id.slice(1)) >= count * 0.6 ? 1.25 : 1;
        phases.push(...phaseRows(bundle_key, latest.summary));
        gates.push(...gateRows(bundle_key, latest.summary));
        for (const p of latest.summary.phases) {
          for (const metric of METRICS) {
            const base =
              (metric.includes("p99") || metric.includes("latency") ? 20 * slow : 100) *
              (1 + p.index / 3) *
              (1 + 0.02 * (random() - 0.5));
            stats.push({
              bundle_key,
              phase: p.name,
              metric,
              source: metric.includes(":") ? "result" : "sample",
              unit: null,
              count: 60,
              mean: base,
              p50: base,
              p90: base * 1.2,
              p99: base * 1.5,
              min: base * 0.8,
              max: base * 1.7,
              stddev: base * 0.05,
              ci_low: base * 0.99,
              ci_high: base * 1.01,
            });
          }
        }
      }
      await insert(trx, "phases", phases);
      await insert(trx, "gate_verdicts", gates);
      await insert(trx, "metric_stats", stats);
    }
  });
}

try {
  const keys = await makeKeys(dir.path);
  const keyring = await loadKeyring(keys.keyringPath);
  const latest = generateCycle({
    tier: "chaos",
    cycleId: "h-latest",
    timeScale: TIME_SCALE,
    startMs: Date.UTC(2027, 0, 1),
  });
  const bundle = await writeCycleBundle(latest, keys.key, dir.path);
  const targets: [string, string][] = [["SQLite", join(dir.path, "report.db")]];
  const pg = await createPgDatabase();
  pgDatabases.push(pg);
  targets.push(["PostgreSQL", pg]);
  process.stdout.write(
    `${CYCLES} cycles × 7 phases × ${METRICS.length} metrics (the latest imported from a real bundle of ${bundle.manifest.counts.samples} samples)\n\n`,
  );
  process.stdout.write(
    `${"database".padEnd(12)}${"fill s".padStart(8)}${"analysis s".padStart(12)}${"html s".padStart(8)}${"html total s".padStart(14)}${"html MB".padStart(9)}${"md s".padStart(7)}${"json s".padStart(8)}${"json MB".padStart(9)}${"junit s".padStart(9)}\n`,
  );
  for (const [name, url] of targets) {
    const cdb = await openCentralDb(url, { create: true });
    await migrateToLatest(cdb);
    let t0 = performance.now();
    await fillHistory(cdb, latest, CYCLES - 1);
    await importBundle(cdb, bundle.path, { keyring });
    const fill = seconds(t0);
    t0 = performance.now();
    const report = await buildCycleReport(cdb.db);
    const analysis = seconds(t0);
    if (report.history.runs !== CYCLES)
      throw new Error(`history has ${report.history.runs} runs, expected ${CYCLES}`);
    const times: Record<string, number> = {};
    const sizes: Record<string, number> = {};
    for (const format of REPORT_FORMATS) {
      t0 = performance.now();
      sizes[format] = Buffer.byteLength(await renderReport(report, format));
      times[format] = seconds(t0);
    }
    await cdb.close();
    // The whole command, as a user runs it: node + tsx start-up, open, analyse, render, write.
    t0 = performance.now();
    await execa(process.execPath, [
      CLI,
      "central",
      "report",
      "--db",
      url,
      "--format",
      "html",
      "--out",
      join(dir.path, `${name}.html`),
    ]);
    cli[name] = seconds(t0);
    const mb = (b: number) => (b / 2 ** 20).toFixed(2);
    process.stdout.write(
      `${name.padEnd(12)}${fill.toFixed(1).padStart(8)}${analysis.toFixed(2).padStart(12)}${times.html!.toFixed(2).padStart(8)}${(analysis + times.html!).toFixed(2).padStart(14)}${mb(sizes.html!).padStart(9)}${times.md!.toFixed(2).padStart(7)}${times.json!.toFixed(2).padStart(8)}${mb(sizes.json!).padStart(9)}${times.junit!.toFixed(2).padStart(9)}\n`,
    );
    if (name === "SQLite")
      process.stdout.write(
        `${"".padEnd(12)}  (change points found: ${report.summary.change_points}; history series: ${report.history.series.length} × ${CYCLES} runs)\n`,
      );
  }
  process.stdout.write(
    `\ntiers central report --format html as a command (process start-up included): ${Object.entries(cli)
      .map(([n, t]) => `${n} ${t.toFixed(2)} s`)
      .join(", ")}\n`,
  );
  process.stdout.write(`targets: HTML report ≤ 3 s (analysis + html), ≤ 3 MB\n`);
} finally {
  for (const url of pgDatabases) await dropPgDatabase(url);
  await dir.remove();
}
