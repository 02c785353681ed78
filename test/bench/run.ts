/**
 * Runs a benchmark by name: `npm run bench -- <name>` (or `node --import tsx test/bench/<name>.ts`).
 * Without a name, lists them. Benchmarks print figures; they never fail on a time.
 */
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith(".ts") && f !== "run.ts")
  .map((f) => f.replace(/\.ts$/, ""))
  .sort();
const name = process.argv[2];
if (!name || !available.includes(name)) {
  console.log(`usage: npm run bench -- <name>\navailable: ${available.join(", ")}`);
  process.exitCode = name ? 2 : 0;
} else {
  await import(pathToFileURL(join(here, `${name}.ts`)).href);
}
