import { join } from "node:path";
import { execa } from "execa";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BundleManifest } from "../../../workloads/shared/bundle-manifest.js";
import { openCentralDb } from "../../../workloads/central/db/connect.js";
import { generateAndWrite, makeKeys, type TestEnvironmentKeys } from "../../support/bundles.js";
import { DB_TARGETS, makeDatabase } from "../../support/databases.js";
import { tempDir } from "../../support/temp.js";

const BUNDLES = 50;
const PROCESSES = 4;
const CLI = join(import.meta.dirname, "..", "..", "..", "bin", "tiers.js");

let dir: Awaited<ReturnType<typeof tempDir>>;
let keys: TestEnvironmentKeys;
const manifests: BundleManifest[] = [];

beforeAll(async () => {
  dir = await tempDir();
  keys = await makeKeys(dir.path);
  // 17 ultimate cycles × 3 regions, the first 50 of them: one inbox directory of 50 bundles.
  for (let i = 0; manifests.length < BUNDLES; i++)
    for (let environment = 0; environment < 3 && manifests.length < BUNDLES; environment++) {
      const cycleId = `c-${String(i).padStart(3, "0")}`;
      const w = await generateAndWrite(
        { tier: "ultimate", cycleId, environment, seed: i, timeScale: 0.002 },
        keys.key,
        join(dir.path, "inbox"),
      );
      manifests.push(w.manifest);
    }
});
afterAll(() => dir?.remove());

describe.each(DB_TARGETS)(`${PROCESSES} importer processes, the same ${BUNDLES} bundles, on %s`, (target) => {
  it(`stores each of the ${BUNDLES} bundles exactly once`, async () => {
    const database = await makeDatabase(target, dir.path);
    try {
      const runs = await Promise.all(
        Array.from({ length: PROCESSES }, () =>
          execa(
            process.execPath,
            [
              CLI,
              "central",
              "import",
              join(dir.path, "inbox"),
              "--db",
              database.url,
              "--keyring",
              keys.keyringPath,
            ],
            {
              reject: false,
            },
          ),
        ),
      );
      for (const run of runs)
        expect({
          exit: run.exitCode,
          stderr: run.stderr,
          refused: run.stdout.split("\n").filter((l) => l.startsWith("refused")),
        }).toStrictEqual({ exit: 0, stderr: "", refused: [] });
      const lines = runs.flatMap((r) => r.stdout.split("\n"));
      expect(lines.filter((l) => l.startsWith("imported ")).length).toBe(BUNDLES);
      expect(lines.filter((l) => l.startsWith("unchanged ")).length).toBe(BUNDLES * (PROCESSES - 1));

      const cdb = await openCentralDb(database.url);
      try {
        const one = async <T>(query: { execute: () => Promise<T[]> }) => (await query.execute())[0]!;
        const n = (v: unknown) => Number(v);
        const bundles = await one(
          cdb.db
            .selectFrom("bundles")
            .select((eb) => [
              eb.fn.countAll().as("rows"),
              sql<number>`count(distinct ${eb.ref("bundle_id")})`.as("ids"),
              sql<number>`count(distinct ${eb.ref("cycle_id")} || '/' || ${eb.ref("environment_id")})`.as(
                "runs",
              ),
            ]),
        );
        expect([n(bundles.rows), n(bundles.ids), n(bundles.runs)]).toStrictEqual([BUNDLES, BUNDLES, BUNDLES]);
        const total = (k: "results" | "samples" | "events") => manifests.reduce((s, m) => s + m.counts[k], 0);
        const count = async (table: "samples" | "results" | "events") =>
          n((await one(cdb.db.selectFrom(table).select((eb) => eb.fn.countAll().as("n")))).n);
        expect(await count("samples")).toBe(total("samples"));
        expect(await count("results")).toBe(total("results"));
        expect(await count("events")).toBe(total("events"));
        // No sample line stored twice under two bundle keys: (cycle, environment, line) is unique.
        const dupSamples = await cdb.db
          .selectFrom("samples")
          .innerJoin("bundles", "bundles.bundle_key", "samples.bundle_key")
          .select(["bundles.cycle_id", "bundles.environment_id", "samples.seq"])
          .groupBy(["bundles.cycle_id", "bundles.environment_id", "samples.seq"])
          .having((eb) => eb.fn.countAll(), ">", 1)
          .execute();
        expect(dupSamples).toStrictEqual([]);
        const stored = await cdb.db.selectFrom("bundles").select("bundle_id").orderBy("bundle_id").execute();
        expect(stored.map((b) => b.bundle_id)).toStrictEqual(manifests.map((m) => m.bundle_id).sort());
      } finally {
        await cdb.close();
      }
    } finally {
      await database.drop();
    }
  });
});
