/**
 * Grafana dashboards as code over the central results database (PostgreSQL): cycles over time,
 * regressions, step changes. Each panel's SQL is plain PostgreSQL without Grafana macros, so a
 * test runs every query as written against a real database loaded with imported bundles
 * (test/workloads/central/grafana.test.ts). Timestamps are ISO-8601 text in the schema, cast to
 * timestamptz for Grafana's time column.
 */

export const DATASOURCE_UID = "tiers-central";

export interface PanelSpec {
  readonly title: string;
  readonly type: "timeseries" | "table" | "barchart" | "stat";
  /** "time_series" when the query returns a time column, else "table". */
  readonly format: "time_series" | "table";
  readonly sql: string;
}

export interface DashboardSpec {
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  readonly panels: readonly PanelSpec[];
}

/** A cycle's phases joined with its bundle: one row per environment × phase. */
const PHASE_ROWS = `
  FROM phases p
  JOIN bundles b ON b.bundle_key = p.bundle_key`;

export const DASHBOARDS: readonly DashboardSpec[] = [
  {
    uid: "tiers-cycles",
    title: "Test tiers: cycles over time",
    description: "Every imported cycle: how many, their verdicts, and each phase's latency and throughput.",
    panels: [
      {
        title: "Cycles per day and verdict",
        type: "barchart",
        format: "time_series",
        sql: `SELECT date_trunc('day', b.started_at::timestamptz) AS time, b.verdict AS metric, count(DISTINCT b.cycle_id) AS value
  FROM bundles b
  GROUP BY 1, 2
  ORDER BY 1, 2`,
      },
      {
        title: "p99 latency per phase (median over environments)",
        type: "timeseries",
        format: "time_series",
        sql: `SELECT min(b.started_at)::timestamptz AS time, b.tier || ' ' || p.phase AS metric,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY p.p99_ms) AS value
${PHASE_ROWS}
  WHERE p.p99_ms IS NOT NULL
  GROUP BY b.cycle_id, b.tier, p.phase
  ORDER BY 1`,
      },
      {
        title: "Achieved throughput per phase (sum over environments)",
        type: "timeseries",
        format: "time_series",
        sql: `SELECT min(b.started_at)::timestamptz AS time, b.tier || ' ' || p.phase AS metric, sum(p.achieved_rps) AS value
${PHASE_ROWS}
  WHERE p.achieved_rps IS NOT NULL
  GROUP BY b.cycle_id, b.tier, p.phase
  ORDER BY 1`,
      },
      {
        title: "Latest cycles",
        type: "table",
        format: "table",
        sql: `SELECT c.cycle_id, c.tier, c.suite_id, c.started_at::timestamptz AS started,
       count(b.bundle_key) AS environments,
       sum(CASE WHEN b.verdict = 'pass' THEN 1 ELSE 0 END) AS passed
  FROM cycles c
  JOIN bundles b ON b.cycle_id = c.cycle_id
  GROUP BY c.cycle_id, c.tier, c.suite_id, c.started_at
  ORDER BY c.started_at DESC
  LIMIT 50`,
      },
    ],
  },
  {
    uid: "tiers-regressions",
    title: "Test tiers: regressions",
    description:
      "Each cycle's phase against the previous cycle of the same tier, suite and environment: p99 latency up, or throughput down, by more than 5 %. The statistical verdicts (Mann–Whitney with effect sizes) are in each cycle's report.",
    panels: [
      {
        title: "Phases slower than the previous cycle (p99 > +5 %)",
        type: "table",
        format: "table",
        sql: `WITH series AS (
  SELECT b.cycle_id, b.tier, b.suite_id, b.environment_id, p.phase, b.started_at, p.p99_ms,
         lag(p.p99_ms) OVER (PARTITION BY b.tier, b.suite_id, b.environment_id, p.phase ORDER BY b.started_at) AS previous_p99_ms,
         lag(b.cycle_id) OVER (PARTITION BY b.tier, b.suite_id, b.environment_id, p.phase ORDER BY b.started_at) AS previous_cycle
${PHASE_ROWS}
  WHERE p.p99_ms IS NOT NULL
)
SELECT started_at::timestamptz AS time, cycle_id, previous_cycle, tier, environment_id, phase,
       previous_p99_ms, p99_ms, round(((p99_ms / previous_p99_ms - 1) * 100)::numeric, 1) AS change_pct
  FROM series
  WHERE previous_p99_ms > 0 AND p99_ms > previous_p99_ms * 1.05
  ORDER BY started_at DESC, change_pct DESC
  LIMIT 200`,
      },
      {
        title: "Failed gate rules over time",
        type: "timeseries",
        format: "time_series",
        sql: `SELECT date_trunc('day', b.started_at::timestamptz) AS time, g.rule_id AS metric, count(*) AS value
  FROM gate_verdicts g
  JOIN bundles b ON b.bundle_key = g.bundle_key
  WHERE g.outcome <> 'pass'
  GROUP BY 1, 2
  ORDER BY 1`,
      },
      {
        title: "Cycles that did not pass",
        type: "stat",
        format: "table",
        sql: `SELECT count(DISTINCT b.cycle_id) AS value FROM bundles b WHERE b.verdict <> 'pass'`,
      },
    ],
  },
  {
    uid: "tiers-change-points",
    title: "Test tiers: change points",
    description:
      "The history each report's change-point analysis (E-divisive means with a permutation test) runs on, and the largest step changes between a cycle's mean and the mean of the five before it. The change points themselves are computed by tiers central report, not stored.",
    panels: [
      {
        title: "p99 latency history per phase (each cycle's median over environments)",
        type: "timeseries",
        format: "time_series",
        sql: `SELECT min(b.started_at)::timestamptz AS time, p.phase AS metric,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY p.p99_ms) AS value
${PHASE_ROWS}
  WHERE p.p99_ms IS NOT NULL
  GROUP BY b.cycle_id, p.phase
  ORDER BY 1`,
      },
      {
        title: "Largest step changes (this cycle against the mean of the five before)",
        type: "table",
        format: "table",
        sql: `WITH per_cycle AS (
  SELECT b.tier, b.suite_id, p.phase, b.cycle_id, min(b.started_at) AS started_at, avg(p.p99_ms) AS p99_ms
${PHASE_ROWS}
  WHERE p.p99_ms IS NOT NULL
  GROUP BY b.tier, b.suite_id, p.phase, b.cycle_id
), windowed AS (
  SELECT *, avg(p99_ms) OVER (PARTITION BY tier, suite_id, phase ORDER BY started_at ROWS BETWEEN 5 PRECEDING AND 1 PRECEDING) AS before_p99_ms,
         count(*) OVER (PARTITION BY tier, suite_id, phase ORDER BY started_at ROWS BETWEEN 5 PRECEDING AND 1 PRECEDING) AS before_n
    FROM per_cycle
)
SELECT started_at::timestamptz AS time, tier, phase, cycle_id, before_n, round(before_p99_ms::numeric, 2) AS before_p99_ms,
       round(p99_ms::numeric, 2) AS p99_ms, round(((p99_ms / before_p99_ms - 1) * 100)::numeric, 1) AS step_pct
  FROM windowed
  WHERE before_n > 0 AND before_p99_ms > 0
  ORDER BY abs(p99_ms / before_p99_ms - 1) DESC
  LIMIT 50`,
      },
    ],
  },
];

/** A dashboard as Grafana's JSON model (schemaVersion 39), its panels on a two-column grid. */
export function dashboardJson(d: DashboardSpec): Record<string, unknown> {
  return {
    uid: d.uid,
    title: d.title,
    description: d.description,
    tags: ["test-tiers", "central"],
    schemaVersion: 39,
    editable: false,
    time: { from: "now-90d", to: "now" },
    panels: d.panels.map((p, i) => ({
      id: i + 1,
      title: p.title,
      type: p.type,
      gridPos: { x: (i % 2) * 12, y: Math.floor(i / 2) * 9, w: 12, h: 9 },
      datasource: { type: "grafana-postgresql-datasource", uid: DATASOURCE_UID },
      targets: [
        {
          refId: "A",
          datasource: { type: "grafana-postgresql-datasource", uid: DATASOURCE_UID },
          editorMode: "code",
          format: p.format,
          rawQuery: true,
          rawSql: p.sql,
        },
      ],
    })),
  };
}

/**
 * The data source as Grafana provisions it. Host, database and user come from the stack; the
 * password from the environment of Grafana's container (`$__env{…}`, filled from Secrets Manager).
 */
export function datasourceYaml(host: string, database: string, user: string): string {
  return [
    "apiVersion: 1",
    "datasources:",
    "  - name: tiers-central",
    `    uid: ${DATASOURCE_UID}`,
    "    type: grafana-postgresql-datasource",
    `    url: ${host}`,
    `    user: ${user}`,
    "    isDefault: true",
    "    editable: false",
    "    jsonData:",
    `      database: ${database}`,
    "      sslmode: require",
    "      postgresVersion: 1600",
    "    secureJsonData:",
    "      password: $__env{TIERS_DB_PASSWORD}",
    "",
  ].join("\n");
}

/** Grafana's dashboard provider: the JSON files of one folder, read-only. */
export const DASHBOARD_PROVIDER_YAML = [
  "apiVersion: 1",
  "providers:",
  "  - name: test-tiers",
  "    folder: Test tiers",
  "    type: file",
  "    disableDeletion: true",
  "    allowUiUpdates: false",
  "    options:",
  "      path: /var/lib/grafana/dashboards",
  "",
].join("\n");
