import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCatalog } from "../../../tiers/catalog.js";
import { dashboardQueries, generateDashboards } from "../../../tiers/monitoring/dashboards.js";
import { generateRules } from "../../../tiers/monitoring/rules.js";
import { createSut } from "../../../workloads/sut/server.js";
import { serveEnvironment, type ServedEnvironment } from "../../helpers/orchestrator.js";
import { metricNamesIn } from "./promql-names.js";

const catalog = loadCatalog();
const dashboards = generateDashboards(catalog.monitoring);

/** Series Prometheus makes itself for every target. */
const PROMETHEUS_SERIES = ["up"];
/** kube-state-metrics (installed by kube-prometheus-stack): the cluster's SUT availability. */
const KUBE_STATE_METRICS = ["kube_deployment_status_replicas_available", "kube_deployment_spec_replicas"];

/** The metric families an exposition declares (`# TYPE name kind`), histograms with their series. */
function exposed(text: string): string[] {
  return [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].flatMap(([, name, kind]) =>
    kind === "histogram" ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name!],
  );
}

describe("every panel query is PromQL a real Prometheus parses, with Grafana's variables as it takes them", () => {
  it("passes promtool check rules as one recording rule per query", async () => {
    const queries = dashboardQueries(dashboards, "1m", "1h");
    expect(queries.length).toBeGreaterThan(0);
    for (const q of queries) expect(q.expr, q.panel).not.toMatch(/\$/);
    const dir = mkdtempSync(join(tmpdir(), "tiers-dashboard-queries-"));
    try {
      const file = join(dir, "queries.yml");
      const rules = queries.map(
        (q, i) => `      - record: panel_query_${i}\n        expr: ${JSON.stringify(q.expr)}`,
      );
      writeFileSync(file, `groups:\n  - name: dashboard-queries\n    rules:\n${rules.join("\n")}\n`);
      const r = await execa("promtool", ["check", "rules", file], { reject: false, all: true });
      expect(r.exitCode, r.all).toBe(0);
      expect(r.all).toContain(`SUCCESS: ${queries.length} rules found`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("dashboards and rules use only what the exporters export", () => {
  let orchestrator: ServedEnvironment;
  const sut = createSut({ defaults: { cpuMs: 0, delayMs: 0, errorRate: 0, bytes: 0 } });
  const names = new Set<string>();
  beforeAll(async () => {
    orchestrator = await serveEnvironment("env-names");
    await new Promise<void>((resolve) => sut.server.listen(0, "127.0.0.1", resolve));
    const sutUrl = `http://127.0.0.1:${(sut.server.address() as AddressInfo).port}`;
    // One request so the SUT's per-route histogram declares its series.
    await fetch(`${sutUrl}/work`).then((r) => r.text());
    // The orchestrator over HTTPS verified against its CA (as Prometheus scrapes it); the SUT plain.
    const texts = [
      await orchestrator.fetch("/metrics").then((r) => r.text()),
      await fetch(`${sutUrl}/metrics`).then((r) => r.text()),
    ];
    for (const text of texts) for (const n of exposed(text)) names.add(n);
  }, 60_000);
  afterAll(async () => {
    sut.server.closeAllConnections();
    await new Promise((resolve) => sut.server.close(resolve));
    await orchestrator?.cleanup();
  });

  it("the exporters were read (the list is not empty)", () => {
    expect([...names]).toEqual(expect.arrayContaining(["stress_phase_progression", "sut_requests_total"]));
  });

  it.each(
    dashboardQueries(dashboards).map((q) => [`${q.dashboard} / ${q.panel}: ${q.expr}`, q.expr] as const),
  )("panel query %s names exported metrics only", (_label, expr) => {
    const used = metricNamesIn(expr);
    expect(used.length).toBeGreaterThan(0);
    expect(used.filter((n) => !names.has(n) && !PROMETHEUS_SERIES.includes(n))).toStrictEqual([]);
  });

  it.each(["scrape", "kube-state-metrics"] as const)(
    "recording rules (availability from %s) name exported metrics only",
    (source) => {
      const rules = generateRules(catalog.monitoring, { availability: source });
      const extra = source === "kube-state-metrics" ? KUBE_STATE_METRICS : [];
      for (const r of rules.groups.flatMap((g) => g.rules)) {
        if (!("record" in r)) continue;
        const used = metricNamesIn(r.expr);
        expect(used.length).toBeGreaterThan(0);
        expect(
          used.filter((n) => !names.has(n) && !PROMETHEUS_SERIES.includes(n) && !extra.includes(n)),
        ).toStrictEqual([]);
      }
    },
  );

  it("alerts name only the recording rules", () => {
    const rules = generateRules(catalog.monitoring);
    const records = new Set(
      rules.groups.flatMap((g) => g.rules).flatMap((r) => ("record" in r ? [r.record] : [])),
    );
    for (const a of rules.alerts) expect(records.has(a.record)).toBe(true);
  });
});

describe("generated dashboards", () => {
  it("are the seed's system_overview and stress_progression, and environment_performance in place of expert_performance", () => {
    expect(Object.keys(dashboards).sort()).toStrictEqual([
      "tiers-environment-performance",
      "tiers-stress-progression",
      "tiers-system-overview",
    ]);
    expect(dashboards["tiers-system-overview"]!.panels.map((p) => p.title)).toStrictEqual(
      catalog.monitoring.dashboards.system_overview!.map(
        (p) => p.charAt(0).toUpperCase() + p.slice(1).replace(/_/g, " "),
      ),
    );
  });

  it("give every panel a unique id and at least one query", () => {
    for (const d of Object.values(dashboards)) {
      expect(new Set(d.panels.map((p) => p.id)).size).toBe(d.panels.length);
      for (const p of d.panels) expect(p.targets.length).toBeGreaterThan(0);
    }
  });

  it("refuses a panel it has no query for, naming the catalog key", () => {
    const monitoring = {
      ...catalog.monitoring,
      dashboards: { system_overview: ["cpu_utilization_heatmap", "mood_ring"] },
    };
    expect(() => generateDashboards(monitoring)).toThrow(
      /^monitoring\.yaml dashboards\.system_overview\[1\]: no query is known for panel "mood_ring" \(expected one of cpu_utilization_heatmap, /,
    );
  });
});

describe("metricNamesIn", () => {
  it.each([
    ['sum by (environment) (rate(sut_requests_total{code=~"5.."}[1m]))', ["sut_requests_total"]],
    ["environment:tiers_sut_cpu:percent > 95", ["environment:tiers_sut_cpu:percent"]],
    ['100 * avg by (environment, component) (up{environment=~".*"})', ["up"]],
    [
      'label_replace(kube_deployment_spec_replicas{deployment="sut"}, "environment", "$1", "namespace", "(.+)")',
      ["kube_deployment_spec_replicas"],
    ],
    ["histogram_quantile(0.95, sum by (le) (rate(a_bucket[5m]))) / on (x) group_left b", ["a_bucket", "b"]],
  ])("%s names %j", (expr, expected) => {
    expect(metricNamesIn(expr)).toStrictEqual(expected);
  });
});
