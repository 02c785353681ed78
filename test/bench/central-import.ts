/**
 * Import of a bundle with ~1,000,000 samples into SQLite and PostgreSQL, side by side with the
 * databases' own bulk loaders loading the same rows into the same (freshly migrated) table:
 * `sqlite3 … .import` and PostgreSQL `COPY` through psql — the practical ceilings. Our figure is
 * end to end: stream-verify the archive (gunzip, sha256, signature, paths), parse and check every
 * line, load everything in one transaction, compute the statistics. Prints figures; asserts none.
 *
 *   npm run bench -- central-import [samples]      (default 1000000)
 */
import { createWriteStream } from "node:fs";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { loadKeyring } from "../../workloads/bundle/keyring.js";
import { openBundle } from "../../workloads/bundle/reader.js";
import { openCentralDb } from "../../workloads/central/db/connect.js";
import { migrateToLatest } from "../../workloads/central/db/migrate.js";
import { SAMPLE_COLUMNS } from "../../workloads/central/db/sample-loader.js";
import { importBundle } from "../../workloads/central/import/import-bundle.js";
import { makeKeys, writeCycleBundle } from "../support/bundles.js";
import { generateCycle } from "../support/cycle-data.js";
import { createPgDatabase, dropPgDatabase } from "../support/databases.js";
import { tempDir } from "../support/temp.js";

const target = Number(process.argv[2] ?? 1_000_000);
const dir = await tempDir("tiers-bench-import-");
const pgDatabases: string[] = [];
const seconds = (t0: number) => (performance.now() - t0) / 1000;

try {
  // An ultimate cycle at full seed durations (8,400 s); the sample interval sets the count.
  const perTick = 7.8; // series per tick, averaged over the phases (idle has no latency series)
  const interval = Math.max(1, Math.floor((8_400_000 * perTick) / target));
  const gen = generateCycle({
    tier: "ultimate",
    timeScale: 1,
    sampleIntervalMs: interval,
    cycleId: "c-bench",
  });
  process.stdout.write(
    `generating a bundle of ${gen.sampleCount.toLocaleString("en")} samples (interval ${interval} ms) …\n`,
  );
  const keys = await makeKeys(dir.path);
  const keyring = await loadKeyring(keys.keyringPath);
  let t0 = performance.now();
  const written = await writeCycleBundle(gen, keys.key, dir.path, { gzipLevel: 6 });
  const n = written.manifest.counts.samples;
  process.stdout.write(
    `  written in ${seconds(t0).toFixed(1)} s: ${(written.bytes / 2 ** 20).toFixed(1)} MB compressed, samples.ndjson ${(written.manifest.files.find((f) => f.path === "samples.ndjson")!.size / 2 ** 20).toFixed(1)} MB\n`,
  );

  // Verification alone (no database): gunzip + checks + parsing every line.
  t0 = performance.now();
  const bundle = await openBundle(written.path, { keyring });
  const opened = seconds(t0);
  await bundle.readResults();
  for await (const _ of bundle.sampleBatches());
  const verified = seconds(t0);
  await bundle.close();

  // The same rows as CSV for the ceilings: (bundle_key, seq, ts_ms, phase, series, value).
  const csv = join(dir.path, "samples.csv");
  const out = createWriteStream(csv);
  let seq = 1;
  for (const s of gen.samples()) {
    if (!out.write(`1,${seq++},${s.ts_ms},${s.phase ?? ""},${s.series},${s.value}\n`))
      await new Promise<void>((r) => out.once("drain", () => r()));
  }
  await new Promise<void>((r) => out.end(r));

  const fresh = async (url: string) => {
    const cdb = await openCentralDb(url, { create: true });
    await migrateToLatest(cdb);
    return cdb;
  };
  const rows: [string, number][] = [];

  // SQLite: our import, then sqlite3's .import into another fresh file.
  let cdb = await fresh(join(dir.path, "ours.db"));
  t0 = performance.now();
  await importBundle(cdb, written.path, { keyring });
  rows.push(["tiers import → SQLite", seconds(t0)]);
  await cdb.close();
  await (await fresh(join(dir.path, "ceiling.db"))).close();
  t0 = performance.now();
  await execa("sqlite3", [join(dir.path, "ceiling.db"), ".import --csv " + csv + " samples"]);
  rows.push(["sqlite3 .import (ceiling)", seconds(t0)]);
  const counted = await execa("sqlite3", [join(dir.path, "ceiling.db"), "select count(*) from samples"]);
  if (Number(counted.stdout) !== n) throw new Error(`sqlite3 loaded ${counted.stdout} rows, expected ${n}`);

  // PostgreSQL: our import, then COPY (psql \copy) into another fresh database.
  const ours = await createPgDatabase();
  pgDatabases.push(ours);
  cdb = await fresh(ours);
  t0 = performance.now();
  await importBundle(cdb, written.path, { keyring });
  rows.push(["tiers import → PostgreSQL", seconds(t0)]);
  await cdb.close();
  const ceiling = await createPgDatabase();
  pgDatabases.push(ceiling);
  await (await fresh(ceiling)).close();
  t0 = performance.now();
  const copied = await execa("psql", [
    ceiling,
    "-v",
    "ON_ERROR_STOP=1",
    "-c",
    `\\copy samples (${SAMPLE_COLUMNS.join(", ")}) from '${csv}' with (format csv)`,
  ]);
  rows.push(["PostgreSQL COPY (ceiling)", seconds(t0)]);
  if (copied.stdout.trim() !== `COPY ${n}`) throw new Error(`psql said ${copied.stdout}, expected COPY ${n}`);

  const rate = (s: number) => n / s;
  process.stdout.write(
    `\n${n.toLocaleString("en")} samples (${((await stat(csv)).size / 2 ** 20).toFixed(0)} MB as CSV)\n\n`,
  );
  process.stdout.write(`${"loader".padEnd(28)}${"seconds".padStart(10)}${"samples/s".padStart(14)}\n`);
  for (const [name, s] of rows)
    process.stdout.write(
      `${name.padEnd(28)}${s.toFixed(2).padStart(10)}${Math.round(rate(s)).toLocaleString("en").padStart(14)}\n`,
    );
  const [sqliteOurs, sqliteCeiling, pgOurs, pgCeiling] = rows.map(([, s]) => s) as [
    number,
    number,
    number,
    number,
  ];
  process.stdout.write(
    `\nratio to the ceiling (target ≥ 0.5): SQLite ${(sqliteCeiling / sqliteOurs).toFixed(2)}, PostgreSQL ${(pgCeiling / pgOurs).toFixed(2)}\n`,
  );
  process.stdout.write(
    `of our time, verification without a database: open ${opened.toFixed(2)} s, + every sample line ${(verified - opened).toFixed(2)} s\n`,
  );
} finally {
  for (const url of pgDatabases) await dropPgDatabase(url);
  await dir.remove();
}
