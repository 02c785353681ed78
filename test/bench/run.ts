/**
 * Runs one benchmark: `npm run bench -- <name>` → test/bench/<name>.ts. Benchmarks print figures;
 * they assert nothing and are never part of `npm test`.
 */
import { readdirSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith(".ts") && f !== "run.ts")
  .map((f) => f.slice(0, -3));
const name = process.argv[2];
if (name === undefined || !available.includes(name)) {
  process.stderr.write(`usage: npm run bench -- <name>   (one of: ${available.join(", ")})\n`);
  process.exitCode = 2;
} else {
  process.argv.splice(2, 1);
  await import(pathToFileURL(`${here}/${name}.ts`).href);
}
