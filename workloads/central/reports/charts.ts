import type { TopLevelSpec } from "vega-lite";
import { PHASE_NAMES } from "../../../tiers/schema/names.js";
import type { CycleReport } from "../analysis/report-model.js";

/**
 * The report's charts as Vega-Lite specs with their data inline. Time axes are minutes since the
 * cycle's start (no time zones in the picture); phases keep their cycle order.
 */

export const CHART_WIDTH = 1080;
const PHASES = [...PHASE_NAMES] as string[];
const CONFIG = {
  font: "Helvetica, Arial, sans-serif",
  background: "white",
  view: { stroke: null },
  axis: {
    labelFontSize: 11,
    titleFontSize: 12,
    gridColor: "#e8e8e8",
    domainColor: "#999",
    tickColor: "#999",
  },
  legend: { orient: "top", labelFontSize: 11, titleFontSize: 11, labelLimit: 320 },
  header: { labelFontSize: 12, titleFontSize: 12 },
} as const;

function spec(body: Record<string, unknown>): TopLevelSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    config: CONFIG,
    ...body,
  } as TopLevelSpec;
}

const envLabel = (r: CycleReport) =>
  new Map(r.environments.map((e) => [e.environment_id, `${e.environment_id} · ${e.region}`]));

function startMs(r: CycleReport): number {
  return Math.min(...r.environments.map((e) => Date.parse(e.started_at)));
}

/** Phase spans of the primary environment, in minutes since the start. */
function phaseSpans(r: CycleReport) {
  const t0 = startMs(r);
  const primary = r.environments[0]!.environment_id;
  return r.phases
    .filter((p) => p.environment_id === primary && p.started_at && p.ended_at)
    .map((p) => ({
      phase: p.phase,
      from: (Date.parse(p.started_at!) - t0) / 60_000,
      to: (Date.parse(p.ended_at!) - t0) / 60_000,
      target: p.target_rps,
    }));
}

function faultSpans(r: CycleReport) {
  const t0 = startMs(r);
  const label = envLabel(r);
  return r.faults.map((f) => ({
    env: label.get(f.environment_id),
    scenario: f.scenario,
    from: (f.applied_ms - t0) / 60_000,
    to: ((f.undone_ms ?? f.applied_ms) - t0) / 60_000,
  }));
}

function seriesPoints(r: CycleReport, series: string) {
  const t0 = startMs(r);
  const label = envLabel(r);
  return r.timeline
    .filter((s) => s.series === series)
    .flatMap((s) =>
      s.points.map(([t, v]) => ({
        env: label.get(s.environment_id),
        t: +((t - t0) / 60_000).toFixed(3),
        v: +v.toFixed(3),
      })),
    );
}

const minutes = {
  field: "t",
  type: "quantitative",
  title: "minutes since the cycle started",
  scale: { zero: false },
} as const;
const envColor = { field: "env", type: "nominal", title: "environment" } as const;

function phaseLayer(r: CycleReport) {
  return [
    {
      data: { values: phaseSpans(r) },
      // A fixed fill (no color encoding): the layers share one color scale, the environments'.
      mark: { type: "rect", color: "#eef1f5", stroke: "white", strokeWidth: 2 },
      encoding: { x: { field: "from", type: "quantitative" }, x2: { field: "to" } },
    },
    {
      data: { values: phaseSpans(r) },
      mark: { type: "text", baseline: "top", dy: 4, fontSize: 10, color: "#555" },
      transform: [{ calculate: "(datum.from + datum.to) / 2", as: "mid" }],
      encoding: { x: { field: "mid", type: "quantitative" }, y: { value: 0 }, text: { field: "phase" } },
    },
  ];
}

function faultLayer(r: CycleReport) {
  if (r.faults.length === 0) return [];
  return [
    {
      data: { values: faultSpans(r) },
      mark: { type: "rect", color: "#d62728", opacity: 0.18 },
      encoding: { x: { field: "from", type: "quantitative" }, x2: { field: "to" } },
    },
    {
      data: { values: faultSpans(r) },
      mark: {
        type: "text",
        angle: 270,
        align: "right",
        baseline: "middle",
        dx: -16,
        fontSize: 9,
        color: "#b22",
      },
      encoding: { x: { field: "from", type: "quantitative" }, y: { value: 0 }, text: { field: "scenario" } },
    },
  ];
}

/** Achieved rate over time per environment, the phases' targets, and fault windows. */
export function loadChart(r: CycleReport): TopLevelSpec {
  const targets = phaseSpans(r).filter((p) => p.target !== null);
  return spec({
    width: CHART_WIDTH,
    height: 260,
    layer: [
      ...phaseLayer(r),
      ...faultLayer(r),
      {
        data: { values: targets },
        mark: { type: "rule", strokeDash: [5, 3], color: "#333", strokeWidth: 1.5 },
        encoding: {
          x: { field: "from", type: "quantitative" },
          x2: { field: "to" },
          y: { field: "target", type: "quantitative" },
        },
      },
      {
        data: { values: seriesPoints(r, "load.rps") },
        mark: { type: "line", strokeWidth: 1.5, interpolate: "monotone" },
        encoding: {
          x: minutes,
          y: { field: "v", type: "quantitative", title: "requests / s (dashed: target)" },
          color: envColor,
        },
      },
    ],
  });
}

/** p99 latency over time with the fault windows: what each injected fault did to the tail. */
export function latencyTimelineChart(r: CycleReport): TopLevelSpec {
  return spec({
    width: CHART_WIDTH,
    height: 220,
    layer: [
      ...phaseLayer(r),
      ...faultLayer(r),
      {
        data: { values: seriesPoints(r, "load.p99_ms") },
        mark: { type: "line", strokeWidth: 1.5 },
        encoding: {
          x: minutes,
          y: { field: "v", type: "quantitative", title: "p99 latency (ms)", scale: { type: "log" } },
          color: envColor,
        },
      },
    ],
  });
}

/** p50 / p95 / p99 per phase, one panel per environment. */
export function latencyChart(r: CycleReport): TopLevelSpec {
  const label = envLabel(r);
  const values = r.phases.flatMap((p) =>
    (["p50", "p95", "p99"] as const).flatMap((q) => {
      const v = p[`${q}_ms`];
      return v === null
        ? []
        : [{ env: label.get(p.environment_id), phase: p.phase, percentile: q, ms: +v.toFixed(3) }];
    }),
  );
  const n = r.environments.length;
  return spec({
    data: { values },
    facet: { column: { field: "env", type: "nominal", title: null } },
    spec: {
      width: Math.floor(CHART_WIDTH / n) - 40,
      height: 200,
      mark: { type: "bar" },
      encoding: {
        x: { field: "phase", type: "nominal", sort: PHASES, title: null, axis: { labelAngle: -30 } },
        xOffset: { field: "percentile", sort: ["p50", "p95", "p99"] },
        y: { field: "ms", type: "quantitative", title: "latency (ms)" },
        color: { field: "percentile", type: "nominal", scale: { range: ["#9ecae1", "#4292c6", "#08306b"] } },
      },
    },
  });
}

/** Mean SUT CPU and memory per phase and environment, against the phase's target band. */
export function resourcesChart(r: CycleReport): TopLevelSpec {
  const label = envLabel(r);
  const panel = (which: "cpu" | "memory", title: string) => {
    const rows = r.phases
      .filter((p) => p[which] !== null)
      .map((p) => ({ env: label.get(p.environment_id), phase: p.phase, ...p[which]! }));
    const bands = rows.map((x) => ({ env: x.env, phase: x.phase, min: x.min, max: x.max }));
    const reached = rows.map((x) => ({
      ...x,
      reached: x.reached === null ? "unknown" : x.reached ? "in band" : "missed",
    }));
    return {
      width: CHART_WIDTH / 2 - 60,
      height: 220,
      title,
      layer: [
        {
          data: { values: bands },
          mark: { type: "bar", color: "#2ca02c", opacity: 0.22 },
          encoding: {
            x: { field: "phase", type: "nominal", sort: PHASES, title: null, axis: { labelAngle: 0 } },
            xOffset: { field: "env" },
            y: { field: "min", type: "quantitative" },
            y2: { field: "max" },
          },
        },
        {
          data: { values: reached },
          mark: { type: "point", filled: true, size: 80, opacity: 1 },
          encoding: {
            x: { field: "phase", type: "nominal", sort: PHASES },
            xOffset: { field: "env" },
            y: {
              field: "mean",
              type: "quantitative",
              title: "percent (green: target band)",
              scale: { domain: [0, 100] },
            },
            color: envColor,
            shape: {
              field: "reached",
              type: "nominal",
              title: "band",
              scale: { domain: ["in band", "missed", "unknown"], range: ["circle", "cross", "square"] },
            },
          },
        },
      ],
    };
  };
  return spec({ hconcat: [panel("cpu", "SUT CPU"), panel("memory", "SUT memory")] });
}

/** Error rate per phase and environment. */
export function errorsChart(r: CycleReport): TopLevelSpec {
  const label = envLabel(r);
  const values = r.phases
    .filter((p) => p.error_rate !== null)
    .map((p) => ({
      env: label.get(p.environment_id),
      phase: p.phase,
      rate: +(p.error_rate! * 100).toFixed(4),
      errors: p.errors,
    }));
  return spec({
    width: CHART_WIDTH,
    height: 180,
    data: { values },
    mark: { type: "bar" },
    encoding: {
      x: { field: "phase", type: "nominal", sort: PHASES, title: null, axis: { labelAngle: 0 } },
      xOffset: { field: "env" },
      y: { field: "rate", type: "quantitative", title: "error rate (%)" },
      color: envColor,
    },
  });
}

/** Environment × phase: p99 latency relative to the phase's median across environments. */
export function heatmapChart(r: CycleReport): TopLevelSpec {
  const label = envLabel(r);
  const values: { env: string; phase: string; p99: number; deviation: number }[] = [];
  for (const phase of PHASES) {
    const rows = r.phases.filter((p) => p.phase === phase && p.p99_ms !== null);
    if (rows.length === 0) continue;
    const sorted = rows.map((p) => p.p99_ms!).sort((a, b) => a - b);
    const mid =
      sorted.length % 2
        ? sorted[(sorted.length - 1) / 2]!
        : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
    for (const p of rows)
      values.push({
        env: label.get(p.environment_id)!,
        phase,
        p99: +p.p99_ms!.toFixed(1),
        deviation: mid === 0 ? 0 : +((p.p99_ms! - mid) / mid).toFixed(4),
      });
  }
  return spec({
    width: CHART_WIDTH - 200,
    height: Math.max(60, 40 * r.environments.length),
    data: { values },
    encoding: {
      x: {
        field: "phase",
        type: "nominal",
        sort: PHASES,
        title: null,
        axis: { orient: "top", labelAngle: 0 },
      },
      y: { field: "env", type: "nominal", title: null, axis: { labelLimit: 300 } },
    },
    layer: [
      {
        mark: { type: "rect", stroke: "white", strokeWidth: 2 },
        encoding: {
          color: {
            field: "deviation",
            type: "quantitative",
            title: "p99 vs. phase median",
            scale: { scheme: "redblue", reverse: true, domain: [-0.3, 0.3], clamp: true },
            legend: { format: "+.0%" },
          },
        },
      },
      {
        mark: { type: "text", fontSize: 11 },
        encoding: { text: { field: "p99", type: "quantitative", format: ".1f" }, color: { value: "#111" } },
      },
    ],
  });
}

/** Each followed metric per phase over the runs, with the detected change points. */
export function historyChart(r: CycleReport): TopLevelSpec {
  const values = r.history.series.flatMap((s) => [
    ...s.points.map((p, i) => ({
      metric: s.metric,
      phase: s.phase,
      run: i + 1,
      value: +p.value.toPrecision(6),
      kind: "run",
    })),
    ...s.change_points.map((c) => ({
      metric: s.metric,
      phase: s.phase,
      run: c.index + 1,
      value: +c.after.toPrecision(6),
      kind: "change",
    })),
  ]);
  return spec({
    data: { values },
    facet: { row: { field: "metric", type: "nominal", title: null } },
    resolve: { scale: { y: "independent" } },
    spec: {
      width: CHART_WIDTH - 120,
      height: 120,
      layer: [
        {
          transform: [{ filter: "datum.kind === 'run'" }],
          mark: { type: "line", strokeWidth: 1.2 },
          encoding: {
            x: {
              field: "run",
              type: "quantitative",
              title: "run (oldest first)",
              scale: { zero: false, nice: false },
              axis: { format: "d", tickMinStep: 1 },
            },
            y: { field: "value", type: "quantitative", title: null, scale: { zero: false } },
            color: { field: "phase", type: "nominal", sort: PHASES, title: "phase" },
          },
        },
        // Only with something to draw: an empty layer leaves its scale without a domain.
        ...(values.some((v) => v.kind === "change")
          ? [
              {
                transform: [{ filter: "datum.kind === 'change'" }],
                mark: { type: "rule", color: "#d62728", strokeWidth: 1.5, strokeDash: [4, 2] },
                encoding: { x: { field: "run", type: "quantitative", scale: { zero: false, nice: false } } },
              },
            ]
          : []),
      ],
    },
  });
}
