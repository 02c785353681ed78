/**
 * `npm run bench -- <name>` runs test/bench/<name>.ts: scripts that print figures (never part of
 * `npm test`, never asserting wall-clock times). With no name, lists them.
 */
import { readdirSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith(".ts") && f !== "run.ts")
  .map((f) => f.slice(0, -3))
  .sort();
const name = process.argv[2];
if (name === undefined || !available.includes(name)) {
  process.stderr.write(`usage: npm run bench -- <name>\navailable: ${available.join(", ")}\n`);
  process.exitCode = name === undefined ? 0 : 2;
} else {
  process.argv.splice(2, 1);
  await import(pathToFileURL(`${here}/${name}.ts`).href);
}
