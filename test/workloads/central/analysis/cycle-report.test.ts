import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CentralDb } from "../../../../workloads/central/db/connect.js";
import { buildCycleReport } from "../../../../workloads/central/analysis/cycle-report.js";
import type { CycleReport } from "../../../../workloads/central/analysis/report-model.js";
import { makeKeys } from "../../../support/bundles.js";
import { cycleIdOf, importAll, writeHistory, type HistoryPlan } from "../../../support/central-fixture.js";
import { DB_TARGETS, makeDatabase } from "../../../support/databases.js";
import { tempDir } from "../../../support/temp.js";

const PLAN: HistoryPlan = {
  cycles: 10,
  regressionFrom: 6,
  regressionFactor: 1.35,
  failingRun: 8,
  timeScale: 0.02,
};
const NOW = new Date("2025-02-01T00:00:00Z");

let dir: Awaited<ReturnType<typeof tempDir>>;
const dbs: Partial<Record<(typeof DB_TARGETS)[number], { cdb: CentralDb; drop: () => Promise<void> }>> = {};

beforeAll(async () => {
  dir = await tempDir();
  const keys = await makeKeys(dir.path);
  const paths = await writeHistory(dir.path, keys, PLAN);
  for (const target of DB_TARGETS) {
    const database = await makeDatabase(target, dir.path);
    dbs[target] = { cdb: await importAll(database.url, keys.keyringPath, paths), drop: database.drop };
  }
}, 120_000);
afterAll(async () => {
  for (const d of Object.values(dbs)) {
    await d.cdb.close();
    await d.drop();
  }
  await dir?.remove();
});

describe("the analysis of a cycle", () => {
  let latest: CycleReport;
  beforeAll(async () => {
    latest = await buildCycleReport(dbs.sqlite!.cdb.db, { now: NOW });
  });

  it("is the same on SQLite and PostgreSQL", async () => {
    for (const options of [{ now: NOW }, { now: NOW, cycleId: cycleIdOf(6) }]) {
      const a = await buildCycleReport(dbs.sqlite!.cdb.db, options);
      const b = await buildCycleReport(dbs.postgres!.cdb.db, options);
      expect(JSON.parse(JSON.stringify(b))).toStrictEqual(JSON.parse(JSON.stringify(a)));
    }
  });

  it("reports on the most recent cycle by default, with every environment and phase", () => {
    expect(latest.cycle).toMatchObject({ cycle_id: cycleIdOf(9), tier: "ultimate", verdict: "passed" });
    expect(latest.environments.map((e) => [e.environment_id, e.region, e.region_role])).toStrictEqual([
      ["env-1", "us-east-1", "primary"],
      ["env-2", "eu-west-1", "secondary"],
      ["env-3", "ap-southeast-1", "tertiary"],
    ]);
    expect(latest.phases).toHaveLength(21);
    expect(latest.faults).toHaveLength(15);
    expect(latest.statistics.length).toBeGreaterThan(21 * 8);
  });

  it("takes the last passing run of the tier and suite as the baseline, skipping the failed one", () => {
    expect(latest.comparison).toMatchObject({ baseline: cycleIdOf(7), selected: "last_passing_run" });
    // Both runs carry the regression: nothing to call out.
    expect(latest.comparison.counts.regressed).toBe(0);
  });

  it("calls the planted latency regression a regression, and only latency", async () => {
    const r = await buildCycleReport(dbs.sqlite!.cdb.db, {
      cycleId: cycleIdOf(6),
      baseline: cycleIdOf(5),
      now: NOW,
    });
    expect(r.comparison.selected).toBe("given");
    const regressed = r.comparison.changes.filter((c) => c.verdict === "regressed");
    expect(new Set(regressed.map((c) => c.metric))).toStrictEqual(
      new Set(["load.p50_ms", "load.p95_ms", "load.p99_ms"]),
    );
    // Every loaded phase of every environment, except where the chaos phase's faults blur it.
    expect(regressed.filter((c) => c.metric === "load.p99_ms" && c.phase !== "chaos")).toHaveLength(15);
    for (const c of regressed) {
      expect(c.relativeChange!).toBeGreaterThan(0.2);
      expect(c.pValue!).toBeLessThan(0.01);
    }
    const resources = r.comparison.changes.filter((c) => c.metric.startsWith("sut."));
    expect(
      resources.filter((c) => c.verdict !== "unchanged" && c.verdict !== "insufficient_data"),
    ).toStrictEqual([]);
  });

  it("finds the change point of the p99 history at the first slow run", () => {
    const p99 = latest.history.series.filter((s) => s.metric === "load.p99_ms" && s.phase !== "idle");
    expect(latest.history.runs).toBe(10);
    for (const s of p99.filter((x) => x.phase !== "chaos")) {
      expect(s.points).toHaveLength(10);
      expect(s.change_points.map((c) => [c.cycle_id, c.direction])).toContainEqual([
        cycleIdOf(6),
        "regressed",
      ]);
    }
    const rps = latest.history.series.filter((s) => s.metric === "load.rps");
    expect(rps.flatMap((s) => s.change_points)).toStrictEqual([]);
  });

  it("compares the same phase across the regions", () => {
    const heavy = latest.peers.by_environment.find((p) => p.phase === "heavy" && p.metric === "sut.cpu_pct")!;
    expect(heavy.reference).toBe("env-1");
    expect(heavy.groups.map((g) => g.group)).toStrictEqual(["env-1", "env-2", "env-3"]);
    expect(heavy.groups[0]!.change).toBeNull();
    for (const g of heavy.groups.slice(1)) expect(g.change!.verdict).toBe("unchanged");
    expect(latest.peers.by_region).toBeNull();
  });

  it("summarises gates, contracts and bands from the stored rows", async () => {
    const failed = await buildCycleReport(dbs.sqlite!.cdb.db, { cycleId: cycleIdOf(8), now: NOW });
    expect(failed.cycle.verdict).toBe("failed");
    expect(failed.summary.gate_rules.failed_abort).toBeGreaterThan(0);
    expect(failed.summary.gate_rules.failed_abort).toBe(
      failed.gates.filter((g) => g.outcome === "fail" && g.action === "abort").length,
    );
    expect(latest.summary.contract_checks.passed).toBe(latest.contracts.flatMap((c) => c.checks).length);
  });

  it("names the cycle it cannot find", async () => {
    await expect(buildCycleReport(dbs.sqlite!.cdb.db, { cycleId: "c-none" })).rejects.toThrow(
      `no cycle c-none in the results database (latest: ${[9, 8, 7, 6, 5].map(cycleIdOf).join(", ")})`,
    );
  });
});
