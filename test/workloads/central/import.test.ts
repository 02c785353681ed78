import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadKeyring, type Keyring } from "../../../workloads/bundle/keyring.js";
import { summarize } from "../../../workloads/central/analysis/stats.js";
import { openCentralDb, type CentralDb } from "../../../workloads/central/db/connect.js";
import { migrateToLatest } from "../../../workloads/central/db/migrate.js";
import type { CentralDatabase } from "../../../workloads/central/db/schema.js";
import { importBundle } from "../../../workloads/central/import/import-bundle.js";
import {
  generateAndWrite,
  makeKeys,
  writeCycleBundle,
  type TestEnvironmentKeys,
} from "../../support/bundles.js";
import { generateCycle } from "../../support/cycle-data.js";
import { DB_TARGETS, fingerprint, makeDatabase } from "../../support/databases.js";
import { tempDir } from "../../support/temp.js";

describe.each(DB_TARGETS)("importing bundles into %s", (target) => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let database: Awaited<ReturnType<typeof makeDatabase>>;
  let cdb: CentralDb;
  let keys: TestEnvironmentKeys;
  let keyring: Keyring;

  beforeAll(async () => {
    dir = await tempDir();
    database = await makeDatabase(target, dir.path);
    cdb = await openCentralDb(database.url, { create: true });
    expect(await migrateToLatest(cdb)).toStrictEqual([
      "001_core",
      "002_history_indexes",
      "003_exact_content",
      "004_fault_recovery",
    ]);
    keys = await makeKeys(dir.path);
    keyring = await loadKeyring(keys.keyringPath);
  });
  afterAll(async () => {
    await cdb?.close();
    await database?.drop();
    await dir?.remove();
  });

  const count = async (table: keyof CentralDatabase) =>
    Number(
      (
        await cdb.db
          .selectFrom(table as "bundles")
          .select((eb) => eb.fn.countAll().as("n"))
          .executeTakeFirstOrThrow()
      ).n,
    );

  it("stores every part of a bundle in its table", async () => {
    const w = await generateAndWrite({ tier: "chaos", cycleId: "c-imp-1", seed: 11 }, keys.key, dir.path);
    const outcome = await importBundle(cdb, w.path, { keyring });
    expect(outcome).toMatchObject({
      status: "imported",
      bundleId: w.manifest.bundle_id,
      cycleId: "c-imp-1",
      environment: "env-1",
      counts: w.manifest.counts,
    });
    const { gen } = w;
    expect(await count("bundles")).toBe(1);
    expect(await count("cycles")).toBe(1);
    expect(await count("environments")).toBe(1);
    expect(await count("phases")).toBe(gen.summary.phases.length);
    expect(await count("gate_verdicts")).toBe(
      gen.summary.phases.reduce((n, p) => n + p.gate.rules.length, 0),
    );
    expect(await count("results")).toBe(gen.results.length);
    expect(await count("metrics")).toBe(gen.results.reduce((n, r) => n + Object.keys(r.metrics).length, 0));
    expect(await count("contract_checks")).toBe(
      gen.results.reduce((n, r) => n + Object.keys(r.validation.checks).length, 0),
    );
    expect(await count("events")).toBe(gen.events.length);
    expect(await count("fault_injections")).toBe(
      gen.env.phases.find((p) => p.name === "chaos")!.faults.length,
    );
    expect(await count("samples")).toBe(gen.sampleCount);

    const stored = await cdb.db
      .selectFrom("samples")
      .select(["seq", "ts_ms", "phase", "series", "value"])
      .orderBy("seq")
      .execute();
    expect(stored.map(({ seq: _, ...s }) => s)).toStrictEqual([...gen.samples()]);

    // The statistics stored at import equal a summary computed here from the generator's values.
    const values = [...gen.samples()]
      .filter((s) => s.phase === "heavy" && s.series === "load.p99_ms")
      .map((s) => s.value);
    const expected = summarize(values);
    const row = await cdb.db
      .selectFrom("metric_stats")
      .selectAll()
      .where("phase", "=", "heavy")
      .where("metric", "=", "load.p99_ms")
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ source: "sample", unit: "ms", count: expected.count });
    for (const [col, v] of [
      ["mean", expected.mean],
      ["p50", expected.p50],
      ["p90", expected.p90],
      ["p99", expected.p99],
      ["min", expected.min],
      ["max", expected.max],
      ["stddev", expected.stddev],
      ["ci_low", expected.ciLow],
      ["ci_high", expected.ciHigh],
    ] as const)
      expect(row[col]).toBeCloseTo(v!, 9);

    const bundle = await cdb.db.selectFrom("bundles").selectAll().executeTakeFirstOrThrow();
    expect(JSON.parse(bundle.manifest)).toStrictEqual(w.manifest);
    expect(bundle.archive_bytes).toBe(w.bytes);
  });

  it("stores samples outside phases and series names of any characters exactly", async () => {
    const gen = generateCycle({ tier: "base", cycleId: "c-odd", seed: 4 });
    const odd = [
      { ts_ms: 1, phase: null, series: "calibration.rps", value: 1e-300 },
      { ts_ms: 2, phase: "idle" as const, series: 'tab\there, back\\slash, "quote", ünïcødé ✓', value: -0.5 },
      { ts_ms: 3, phase: "idle" as const, series: "big", value: 1.7976931348623157e308 },
    ];
    const w = await writeCycleBundle(
      {
        ...gen,
        samples: function* () {
          yield* odd;
          yield* gen.samples();
        },
      },
      keys.key,
      join(dir.path, "odd"),
    );
    expect((await importBundle(cdb, w.path, { keyring })).status).toBe("imported");
    const stored = await cdb.db
      .selectFrom("samples")
      .innerJoin("bundles", "bundles.bundle_key", "samples.bundle_key")
      .select(["samples.ts_ms", "samples.phase", "samples.series", "samples.value"])
      .where("bundles.cycle_id", "=", "c-odd")
      .where("samples.seq", "<=", 3)
      .orderBy("samples.seq")
      .execute();
    expect(stored).toStrictEqual(odd);
  });

  it("imports the same bundle again as a no-op that says so", async () => {
    const w = await generateAndWrite({ tier: "chaos", cycleId: "c-imp-1", seed: 11 }, keys.key, dir.path);
    const before = await fingerprint(cdb);
    expect((await importBundle(cdb, w.path, { keyring })).status).toBe("already_imported");
    expect(await fingerprint(cdb)).toStrictEqual(before);
  });

  it("adds the other environments of a cycle under the same cycle", async () => {
    for (const environment of [1, 2]) {
      const w = await generateAndWrite(
        { tier: "ultimate", cycleId: "c-multi", environment, seed: 5 },
        keys.key,
        dir.path,
      );
      expect((await importBundle(cdb, w.path, { keyring })).status).toBe("imported");
    }
    const rows = await cdb.db
      .selectFrom("bundles")
      .select(["environment_id", "region"])
      .where("cycle_id", "=", "c-multi")
      .orderBy("environment_id")
      .execute();
    expect(rows).toStrictEqual([
      { environment_id: "env-2", region: "eu-west-1" },
      { environment_id: "env-3", region: "ap-southeast-1" },
    ]);
    const cycles = await cdb.db
      .selectFrom("cycles")
      .select("cycle_id")
      .where("cycle_id", "=", "c-multi")
      .execute();
    expect(cycles).toHaveLength(1);
  });

  it("refuses another bundle of a stored cycle and environment, and writes nothing", async () => {
    const w = await generateAndWrite(
      { tier: "chaos", cycleId: "c-imp-1", seed: 11 },
      keys.key,
      join(dir.path, "dup"),
      {
        bundleId: "00000000-0000-4000-8000-000000000001",
      },
    );
    const before = await fingerprint(cdb);
    await expect(importBundle(cdb, w.path, { keyring })).rejects.toThrow(
      /^bundle refused \(duplicate_cycle\): cycle c-imp-1 of environment env-1 is already stored from bundle [0-9a-f-]{36}$/,
    );
    expect(await fingerprint(cdb)).toStrictEqual(before);
  });

  it("refuses a cycle whose other environments came with another plan", async () => {
    const w = await generateAndWrite(
      { tier: "chaos", cycleId: "c-multi", environment: 0, seed: 5 },
      keys.key,
      join(dir.path, "plan"),
    );
    const before = await fingerprint(cdb);
    await expect(importBundle(cdb, w.path, { keyring })).rejects.toThrow(
      /^bundle refused \(cycle_mismatch\): cycle c-multi is stored with tier ultimate, suite default, plan [0-9a-f]{12}…; this bundle says tier chaos, suite default, plan [0-9a-f]{12}…$/,
    );
    expect(await fingerprint(cdb)).toStrictEqual(before);
  });

  it("refuses result ids another bundle already stored", async () => {
    // The stored c-imp-1's results, carried into another cycle: same result ids, another bundle.
    const gen = generateCycle({ tier: "chaos", cycleId: "c-imp-1", seed: 11 });
    const moved = await writeCycleBundle(
      {
        ...gen,
        summary: { ...gen.summary, cycle_id: "c-reuse" },
        results: gen.results.map((r) => ({ ...r, cycle_id: "c-reuse" })),
      },
      keys.key,
      join(dir.path, "reuse"),
    );
    const before = await fingerprint(cdb);
    const error = await importBundle(cdb, moved.path, { keyring }).catch((e: unknown) => e);
    const [, id] =
      /^bundle refused \(duplicate_result\): result ([0-9a-f-]{36}) is already stored from bundle [0-9a-f-]{36}$/.exec(
        (error as Error).message,
      )!;
    expect(gen.results.map((r) => r.result_id)).toContain(id);
    expect(await fingerprint(cdb)).toStrictEqual(before);
  });

  it("rolls the whole bundle back when the transaction fails half way", async () => {
    const w = await generateAndWrite({ tier: "base", cycleId: "c-rollback", seed: 2 }, keys.key, dir.path);
    const before = await fingerprint(cdb);
    await expect(
      importBundle(cdb, w.path, {
        keyring,
        onProgress: (stage) => {
          if (stage === "loading_samples")
            throw new Error("injected failure after results and events were written");
        },
      }),
    ).rejects.toThrow("injected failure after results and events were written");
    expect(await fingerprint(cdb)).toStrictEqual(before);
    expect((await importBundle(cdb, w.path, { keyring })).status).toBe("imported");
  });
});
