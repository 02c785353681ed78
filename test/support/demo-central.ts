/**
 * Builds a demonstration results database for the documentation screenshot: 24 ultimate-tier
 * cycles over three regions, generated and signed with the real bundle writer and imported with
 * the real importer; p99 latency grows by 35 % from cycle c016 on.
 *
 *   node --import tsx test/support/demo-central.ts DIR
 *   node bin/tiers.js central report c019 --baseline c015 --db DIR/central.db --out DIR/report.html
 *   chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
 *     --hide-scrollbars --window-size=1280,3300 --screenshot=docs/central-report.png file://DIR/report.html
 */
import { join } from "node:path";
import { makeKeys } from "./bundles.js";
import { importAll, writeHistory } from "./central-fixture.js";

const dir = process.argv[2];
if (!dir) throw new Error("usage: demo-central.ts DIR");
const keys = await makeKeys(dir);
const paths = await writeHistory(dir, keys, {
  cycles: 24,
  regressionFrom: 16,
  regressionFactor: 1.35,
  timeScale: 0.04,
});
const cdb = await importAll(join(dir, "central.db"), keys.keyringPath, paths);
await cdb.close();
process.stdout.write(`${paths.length} bundles imported into ${join(dir, "central.db")}\n`);
