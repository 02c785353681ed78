/**
 * Every SQL query of the Grafana dashboards, as written, against a real PostgreSQL database
 * loaded with imported bundles (a history with a planted latency regression and a failing run):
 * each returns rows, with the columns its panel needs.
 */
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CentralDb } from "../../../workloads/central/db/connect.js";
import { DASHBOARDS, dashboardJson } from "../../../workloads/central/grafana/dashboards.js";
import { makeKeys } from "../../support/bundles.js";
import { importAll, writeHistory } from "../../support/central-fixture.js";
import { createPgDatabase, dropPgDatabase } from "../../support/databases.js";
import { tempDir } from "../../support/temp.js";

let dir: Awaited<ReturnType<typeof tempDir>>;
let url: string | undefined;
let cdb: CentralDb | undefined;

beforeAll(async () => {
  dir = await tempDir();
  const keys = await makeKeys(dir.path);
  const paths = await writeHistory(dir.path, keys, {
    cycles: 8,
    regressionFrom: 5,
    regressionFactor: 1.4,
    failingRun: 3,
    environments: 2,
  });
  url = await createPgDatabase();
  cdb = await importAll(url, keys.keyringPath, paths);
}, 300_000);
afterAll(async () => {
  await cdb?.close();
  if (url) await dropPgDatabase(url);
  await dir?.remove();
});

const panels = DASHBOARDS.flatMap((d) => d.panels.map((p) => [`${d.title} / ${p.title}`, p] as const));

describe("Grafana dashboards over the central tables", () => {
  it.each(panels)("%s returns rows", async (_title, panel) => {
    const result = await sql.raw<Record<string, unknown>>(panel.sql).execute(cdb!.db);
    expect(result.rows.length).toBeGreaterThan(0);
    const columns = Object.keys(result.rows[0]!);
    if (panel.format === "time_series") {
      expect(columns).toContain("time");
      expect(columns).toContain("value");
      expect(result.rows.every((r) => r.time instanceof Date)).toBe(true);
    }
  });

  it("finds the planted regression from cycle c005 on, and the failing run c003", async () => {
    const regressions = DASHBOARDS.find((d) => d.uid === "tiers-regressions")!.panels[0]!;
    const rows = (await sql.raw<{ cycle_id: string }>(regressions.sql).execute(cdb!.db)).rows;
    expect(rows.map((r) => r.cycle_id)).toContain("c005");
    expect(rows.map((r) => r.cycle_id)).toContain("c003");
    const failed = DASHBOARDS.find((d) => d.uid === "tiers-regressions")!.panels[2]!;
    const count = (await sql.raw<{ value: string | number }>(failed.sql).execute(cdb!.db)).rows[0]!.value;
    expect(Number(count)).toBeGreaterThanOrEqual(1);
  });

  it("each dashboard is Grafana JSON with one target per panel on the provisioned data source", () => {
    for (const d of DASHBOARDS) {
      const json = dashboardJson(d) as { uid: string; panels: { targets: { rawSql: string }[] }[] };
      expect(json.uid).toBe(d.uid);
      expect(json.panels.map((p) => p.targets.map((t) => t.rawSql))).toStrictEqual(
        d.panels.map((p) => [p.sql]),
      );
    }
  });
});
