/**
 * A results database with a history worth reporting on: ultimate-tier cycles over three regions,
 * a latency regression planted from one run on, and one run whose gates abort. Built with the real
 * writer and importer.
 */
import { join } from "node:path";
import { loadKeyring } from "../../workloads/bundle/keyring.js";
import { openCentralDb, type CentralDb } from "../../workloads/central/db/connect.js";
import { migrateToLatest } from "../../workloads/central/db/migrate.js";
import { importBundle } from "../../workloads/central/import/import-bundle.js";
import { generateAndWrite, type TestEnvironmentKeys } from "./bundles.js";
import type { CycleKnobs } from "./cycle-data.js";

export interface HistoryPlan {
  readonly cycles: number;
  /** Runs from this index on are slower (latency × regressionFactor). */
  readonly regressionFrom: number;
  readonly regressionFactor: number;
  /** A run whose latency breaks the gates' 1 s p95 limit (its cycle fails). */
  readonly failingRun?: number;
  readonly environments?: number;
  readonly timeScale?: number;
}

export const cycleIdOf = (i: number) => `c${String(i).padStart(3, "0")}`;

export function knobsFor(plan: HistoryPlan, i: number, environment: number): CycleKnobs {
  return {
    tier: "ultimate",
    cycleId: cycleIdOf(i),
    environment,
    seed: 100 + i,
    timeScale: plan.timeScale ?? 0.01,
    startMs: Date.UTC(2025, 0, 1 + i, 9),
    latencyFactor: i === plan.failingRun ? 60 : i >= plan.regressionFrom ? plan.regressionFactor : 1,
  };
}

/** Writes every bundle of the plan into `dir/bundles` and returns their paths. */
export async function writeHistory(
  dir: string,
  keys: TestEnvironmentKeys,
  plan: HistoryPlan,
): Promise<string[]> {
  const paths: string[] = [];
  for (let i = 0; i < plan.cycles; i++)
    for (let e = 0; e < (plan.environments ?? 3); e++)
      paths.push((await generateAndWrite(knobsFor(plan, i, e), keys.key, join(dir, "bundles"))).path);
  return paths;
}

/** Imports bundles into a new database at `url`. */
export async function importAll(
  url: string,
  keyringPath: string,
  paths: readonly string[],
): Promise<CentralDb> {
  const keyring = await loadKeyring(keyringPath);
  const cdb = await openCentralDb(url, { create: true });
  await migrateToLatest(cdb);
  for (const p of paths) await importBundle(cdb, p, { keyring });
  return cdb;
}
