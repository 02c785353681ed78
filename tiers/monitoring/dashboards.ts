import { ExitCode, TiersError } from "../errors.js";
import type { Monitoring } from "../schema/catalog.js";

/** A Grafana panel's kind and its PromQL, by the catalog's panel name (monitoring.yaml `dashboards`). */
interface PanelSpec {
  readonly type: "timeseries" | "heatmap" | "gauge" | "state-timeline" | "bargauge";
  readonly unit: string;
  readonly targets: readonly { readonly expr: string; readonly legend: string }[];
}

/**
 * `$environment` is the dashboards' variable; `$__rate_interval` Grafana's rate window, `$__range`
 * its time range (`dashboardQueries` replaces all three for a plain Prometheus).
 */
const ENV = `environment=~"$environment"`;

const PANELS: Readonly<Record<string, PanelSpec>> = {
  // system_overview
  cpu_utilization_heatmap: {
    type: "heatmap",
    unit: "percent",
    targets: [{ expr: `max by (environment) (tiers_sut_cpu_percent{${ENV}})`, legend: "{{environment}}" }],
  },
  memory_usage_timeline: {
    type: "timeseries",
    unit: "percent",
    targets: [{ expr: `max by (environment) (tiers_sut_memory_percent{${ENV}})`, legend: "{{environment}}" }],
  },
  request_rate_gauge: {
    type: "gauge",
    unit: "reqps",
    targets: [{ expr: `sum(rate(sut_requests_total{${ENV}}[$__rate_interval]))`, legend: "requests/s" }],
  },
  error_rate_chart: {
    type: "timeseries",
    unit: "percentunit",
    targets: [
      { expr: `max by (environment) (tiers_load_error_ratio{${ENV}})`, legend: "{{environment}} load" },
      {
        // "or … * 0": a SUT that never answered 5xx has no such series; its ratio is 0, not absent.
        expr: `(sum by (environment) (rate(sut_requests_total{${ENV},code=~"5.."}[$__rate_interval])) or 0 * sum by (environment) (rate(sut_requests_total{${ENV}}[$__rate_interval]))) / sum by (environment) (rate(sut_requests_total{${ENV}}[$__rate_interval]))`,
        legend: "{{environment}} SUT 5xx",
      },
    ],
  },
  response_time_histogram: {
    type: "heatmap",
    unit: "s",
    targets: [
      {
        expr: `sum by (le) (rate(sut_request_duration_seconds_bucket{${ENV},route="/work"}[$__rate_interval]))`,
        legend: "{{le}}",
      },
    ],
  },
  // stress_progression
  phase_timeline: {
    type: "state-timeline",
    unit: "percentunit",
    targets: [{ expr: `max by (phase) (stress_phase_progression{${ENV}})`, legend: "{{phase}}" }],
  },
  load_progression_chart: {
    type: "timeseries",
    unit: "reqps",
    targets: [{ expr: `sum by (environment) (tiers_load_rps{${ENV}})`, legend: "{{environment}}" }],
  },
  resource_scaling_view: {
    type: "timeseries",
    unit: "short",
    targets: [
      {
        expr: `count by (environment) (up{${ENV},component="sut"} == 1)`,
        legend: "{{environment}} SUT replicas up",
      },
    ],
  },
  failure_injection_log: {
    type: "timeseries",
    unit: "reqps",
    targets: [
      {
        expr: `sum by (environment) (rate(sut_injected_errors_total{${ENV}}[$__rate_interval]))`,
        legend: "{{environment}} injected errors/s",
      },
      {
        expr: `max by (environment) (tiers_load_error_ratio{${ENV}})`,
        legend: "{{environment}} load error ratio",
      },
    ],
  },
  // environment-performance (in place of the seed's expert_performance)
  environment_throughput: {
    type: "timeseries",
    unit: "reqps",
    targets: [{ expr: `sum by (environment) (tiers_load_rps{${ENV}})`, legend: "{{environment}}" }],
  },
  environment_latency: {
    type: "timeseries",
    unit: "s",
    targets: [
      { expr: `max by (environment) (tiers_load_p95_seconds{${ENV}})`, legend: "{{environment}} p95" },
      { expr: `max by (environment) (tiers_load_p99_seconds{${ENV}})`, legend: "{{environment}} p99" },
    ],
  },
  environment_results: {
    type: "bargauge",
    unit: "short",
    targets: [
      {
        // A counter that only grows across cycles: what the dashboard's time range committed.
        expr: `sum by (environment, status) (increase(tiers_results_total{${ENV}}[$__range]))`,
        legend: "{{environment}} {{status}}",
      },
    ],
  },
  environment_availability: {
    type: "timeseries",
    unit: "percentunit",
    targets: [
      { expr: `avg by (environment, component) (up{${ENV}})`, legend: "{{environment}} {{component}}" },
    ],
  },
};

/**
 * The seed's expert_performance panels measure "experts", which this project's SUT does not have;
 * the environment-performance dashboard takes its place with the same four questions asked of each
 * isolated environment (throughput, latency, results, availability).
 */
const REPLACED: Readonly<Record<string, { name: string; panels: readonly string[] }>> = {
  expert_performance: {
    name: "environment_performance",
    panels: [
      "environment_throughput",
      "environment_latency",
      "environment_results",
      "environment_availability",
    ],
  },
};

export interface GrafanaPanel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly gridPos: { readonly x: number; readonly y: number; readonly w: number; readonly h: number };
  readonly datasource: { readonly type: "prometheus"; readonly uid: string };
  readonly fieldConfig: { readonly defaults: { readonly unit: string }; readonly overrides: readonly [] };
  readonly targets: readonly {
    readonly refId: string;
    readonly expr: string;
    readonly legendFormat: string;
    readonly datasource: { readonly type: "prometheus"; readonly uid: string };
  }[];
}

export interface GrafanaDashboard {
  readonly uid: string;
  readonly title: string;
  readonly tags: readonly string[];
  readonly schemaVersion: number;
  readonly time: { readonly from: string; readonly to: string };
  readonly refresh: string;
  readonly templating: { readonly list: readonly Record<string, unknown>[] };
  readonly panels: readonly GrafanaPanel[];
}

const DATASOURCE = { type: "prometheus", uid: "${datasource}" } as const;

/**
 * Grafana dashboards (JSON models) for the catalog's dashboards: system_overview and
 * stress_progression as the seed lists their panels, environment_performance in place of
 * expert_performance. Every query is PromQL over series the orchestrator and the SUT export.
 * Keyed by file name (`tiers-system-overview`, …).
 */
export function generateDashboards(monitoring: Monitoring): Record<string, GrafanaDashboard> {
  const out: Record<string, GrafanaDashboard> = {};
  for (const [name, listed] of Object.entries(monitoring.dashboards)) {
    const replaced = REPLACED[name];
    const dashName = replaced?.name ?? name;
    const panelNames = replaced?.panels ?? listed;
    const panels = panelNames.map((p, i): GrafanaPanel => {
      const spec = PANELS[p];
      if (!spec) {
        throw new TiersError(
          ExitCode.InvalidConfig,
          `monitoring.yaml dashboards.${name}[${i}]: no query is known for panel ${JSON.stringify(p)} (expected one of ${Object.keys(PANELS).join(", ")})`,
        );
      }
      return {
        id: i + 1,
        type: spec.type,
        title: titleOf(p),
        gridPos: { x: (i % 2) * 12, y: Math.floor(i / 2) * 8, w: 12, h: 8 },
        datasource: DATASOURCE,
        fieldConfig: { defaults: { unit: spec.unit }, overrides: [] },
        targets: spec.targets.map((t, j) => ({
          refId: String.fromCharCode(65 + j),
          expr: t.expr,
          legendFormat: t.legend,
          datasource: DATASOURCE,
        })),
      };
    });
    const file = `tiers-${dashName.replace(/_/g, "-")}`;
    out[file] = {
      uid: file,
      title: `test-tiers: ${titleOf(dashName)}`,
      tags: ["test-tiers"],
      schemaVersion: 39,
      time: { from: "now-1h", to: "now" },
      refresh: "15s",
      templating: {
        list: [
          { name: "datasource", type: "datasource", query: "prometheus", current: {}, hide: 0 },
          {
            name: "environment",
            type: "query",
            datasource: DATASOURCE,
            query: "label_values(up, environment)",
            refresh: 2,
            multi: true,
            includeAll: true,
            allValue: ".*",
            current: { text: "All", value: "$__all" },
          },
        ],
      },
      panels,
    };
  }
  return out;
}

function titleOf(name: string): string {
  const s = name.replace(/_/g, " ");
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/**
 * Every PromQL query of every panel, with Grafana's variables as a plain Prometheus takes them:
 * `$environment` every environment, `$__rate_interval` and `$__range` (the dashboard's time range)
 * as given.
 */
export function dashboardQueries(
  dashboards: Readonly<Record<string, GrafanaDashboard>>,
  rateInterval = "1m",
  range = "1h",
): { dashboard: string; panel: string; expr: string }[] {
  return Object.entries(dashboards).flatMap(([file, d]) =>
    d.panels.flatMap((p) =>
      p.targets.map((t) => ({
        dashboard: file,
        panel: p.title,
        expr: t.expr
          .replaceAll("$__rate_interval", rateInterval)
          .replaceAll("$__range", range)
          .replaceAll("$environment", ".*"),
      })),
    ),
  );
}
