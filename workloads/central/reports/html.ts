import type { TopLevelSpec } from "vega-lite";
import type { CycleReport } from "../analysis/report-model.js";
import {
  errorsChart,
  heatmapChart,
  historyChart,
  latencyChart,
  latencyTimelineChart,
  loadChart,
  resourcesChart,
} from "./charts.js";
import { when } from "./format.js";
import { el, Raw, type Child } from "./html-kit.js";
import {
  comparisonTable,
  contractsTable,
  faultsTable,
  gatesTable,
  alertsTable,
  historyTable,
  peerTable,
  provenanceTable,
  statisticsTable,
  summaryCards,
  summaryTable,
} from "./html-sections.js";
import { renderSvg } from "./render-svg.js";

const STYLE = `
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 Helvetica,Arial,sans-serif;color:#1d2330;background:#f6f7f9}
main{max-width:1200px;margin:0 auto;padding:24px 28px 48px;background:#fff;min-height:100vh}
header h1{font-size:24px;margin:0 0 4px}
header .meta{color:#5b6475;margin:0 0 16px}
h2{font-size:18px;margin:36px 0 6px;padding-bottom:4px;border-bottom:1px solid #e3e6eb}
p.note{color:#5b6475;margin:4px 0 12px}
nav{font-size:13px;margin:0 0 8px}
nav a{color:#2b5cab;margin-right:12px;text-decoration:none}
.cards{display:grid;grid-template-columns:repeat(6,1fr);gap:10px;margin:14px 0 18px}
.card{border:1px solid #e3e6eb;border-left:5px solid #aab;padding:10px 12px;border-radius:6px}
.card .value{font-size:19px;font-weight:bold}
.card .label{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:#5b6475}
.card .detail{font-size:12px;color:#5b6475;margin-top:4px}
.card.ok{border-left-color:#2e9e4f}.card.warn{border-left-color:#e0a100}.card.bad{border-left-color:#d23a3a}.card.muted{border-left-color:#aab}
table{border-collapse:collapse;width:100%;margin:8px 0 4px;font-size:13px}
th,td{padding:4px 8px;border-bottom:1px solid #eceef2;text-align:left;vertical-align:top}
th{background:#f1f3f6;font-weight:600;position:sticky;top:0}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.dense{font-size:12px}
.badge{display:inline-block;padding:0 7px;border-radius:9px;font-size:12px;font-weight:600}
.badge.ok{background:#dcf3e3;color:#1d6b35}.badge.warn{background:#fdf0c8;color:#7a5a00}.badge.bad{background:#fbdcdc;color:#9c1f1f}.badge.muted{background:#eceef2;color:#5b6475}
.ok-text{color:#1d6b35}.bad-text{color:#9c1f1f;font-weight:600}
.chart{overflow-x:auto;margin:6px 0}
.chart svg{max-width:100%;height:auto}
code{font:12px Menlo,Consolas,monospace}
details summary{cursor:pointer;color:#2b5cab;margin:6px 0}
footer{margin-top:36px;font-size:12px;color:#5b6475}
`;

/** Every inline data set of a chart spec (its own and its layers'). */
function inlineValues(spec: unknown): unknown[][] {
  if (spec === null || typeof spec !== "object") return [];
  const o = spec as {
    data?: { values?: unknown };
    layer?: unknown[];
    vconcat?: unknown[];
    hconcat?: unknown[];
  };
  const own = Array.isArray(o.data?.values) ? [o.data.values as unknown[]] : [];
  return [...own, ...[...(o.layer ?? []), ...(o.vconcat ?? []), ...(o.hconcat ?? [])].flatMap(inlineValues)];
}

/** A chart as inline SVG; a chart with nothing to draw says so instead (Vega refuses empty scales). */
async function chart(spec: TopLevelSpec, label: string): Promise<Raw> {
  const sets = inlineValues(spec);
  if (sets.length > 0 && sets.every((v) => v.length === 0))
    return el(
      "p",
      { class: "note", "aria-label": label },
      `No ${label} figures were recorded in this cycle.`,
    );
  return el("figure", { class: "chart", "aria-label": label }, new Raw(await renderSvg(spec)));
}

interface Section {
  readonly id: string;
  readonly html: Raw;
}

function section(id: string, title: string, ...children: Child[]): Section {
  return { id, html: el("section", { id }, el("h2", {}, title), ...children) };
}

const note = (text: string) => el("p", { class: "note" }, text);

/**
 * One self-contained HTML file: inline CSS, charts as inline SVG rendered here, no scripts and
 * nothing fetched. Summary first, then the charts the issue asks for, then the detail tables.
 */
export async function renderHtml(report: CycleReport): Promise<string> {
  const r = report;
  const multiEnv = r.environments.length > 1;
  const changed = r.comparison.changes.filter((c) => c.verdict !== "unchanged");
  const sections: Section[] = [
    section("summary", "Summary", summaryCards(r), summaryTable(r)),
    section(
      "load",
      "Load progression across phases",
      note(
        "Achieved requests per second per environment; dashed: each phase's target; red: fault-injection windows.",
      ),
      await chart(loadChart(r), "load progression"),
    ),
    section("latency", "Latency percentiles per phase", await chart(latencyChart(r), "latency percentiles")),
    section(
      "resources",
      "SUT CPU and memory against the target bands",
      note(
        "Green: the phase's target band from the tier catalog; points: each environment's mean; ✗ a missed band.",
      ),
      await chart(resourcesChart(r), "cpu and memory"),
    ),
    section("errors", "Errors", await chart(errorsChart(r), "error rate")),
    section(
      "faults",
      "Fault injections on the timeline",
      note(
        r.faults.length
          ? `${r.faults.length} faults injected; p99 latency per environment (log scale).`
          : "No faults were injected in this cycle; p99 latency per environment (log scale).",
      ),
      await chart(latencyTimelineChart(r), "p99 latency and faults"),
      ...(r.faults.length ? [faultsTable(r)] : []),
    ),
    section(
      "regions",
      "Environments and regions",
      multiEnv
        ? await chart(heatmapChart(r), "environment heat map")
        : note("One environment: nothing to compare across environments or regions."),
      multiEnv
        ? el(
            "details",
            {},
            el(
              "summary",
              {},
              "Same phase across environments: medians and Mann–Whitney against the primary region",
            ),
            peerTable(r),
          )
        : null,
    ),
    section(
      "comparison",
      "Comparison with the baseline",
      r.comparison.baseline
        ? note(
            `Against ${r.comparison.baseline} (${r.comparison.selected === "given" ? "given" : "last passing run of the same tier and suite"}). ` +
              `A change counts when the Mann–Whitney p-value, adjusted over all ${r.comparison.changes.length} comparisons (Benjamini–Hochberg), is < ${r.comparison.thresholds.alpha}, |Cliff's δ| ≥ ${r.comparison.thresholds.minCliffsDelta} and the medians differ by ≥ ${r.comparison.thresholds.minRelativeChange * 100} %. ` +
              `${r.comparison.counts.regressed} regressed, ${r.comparison.counts.improved} improved, ${r.comparison.counts.unchanged} unchanged.`,
          )
        : note(r.comparison.note ?? "No baseline."),
      changed.length ? comparisonTable(changed) : null,
      r.comparison.changes.length
        ? el(
            "details",
            {},
            el("summary", {}, `All ${r.comparison.changes.length} comparisons`),
            comparisonTable(r.comparison.changes),
          )
        : null,
    ),
    section(
      "history",
      "History and change points",
      note(
        `${r.history.runs} runs of ${r.cycle.tier}/${r.cycle.suite_id}; each point is a run's median averaged over its environments; red: change points (E-divisive means, permutation test).`,
      ),
      r.history.series.length ? await chart(historyChart(r), "history") : null,
      r.summary.change_points ? historyTable(r) : note("No change points."),
    ),
    section("gates", "Phase gates", gatesTable(r)),
    ...(r.monitoring
      ? [
          section(
            "alerts",
            "Alerts fired",
            note(`${r.monitoring.alerts.length} alert(s) reported firing by ${r.monitoring.source}.`),
            alertsTable(r.monitoring.alerts),
          ),
        ]
      : []),
    section("contracts", "Contract verdicts", contractsTable(r)),
    section(
      "statistics",
      "Statistics per environment × phase × metric",
      el(
        "details",
        {},
        el(
          "summary",
          {},
          `${r.statistics.length} rows: count, mean, p50, p90, p99, min, max, stddev, 95 % CI`,
        ),
        statisticsTable(r),
      ),
    ),
    section("provenance", "Bundles", provenanceTable(r)),
  ];
  const nav = el(
    "nav",
    {},
    sections.filter((x) => x.id !== "provenance").map((x) => el("a", { href: `#${x.id}` }, x.id)),
  );
  const title = `Cycle ${r.cycle.cycle_id} · ${r.cycle.tier} / ${r.cycle.suite_id} · ${r.cycle.verdict}`;
  const page = el(
    "html",
    { lang: "en" },
    el(
      "head",
      {},
      new Raw('<meta charset="utf-8"/><meta name="viewport" content="width=device-width, initial-scale=1"/>'),
      el("title", {}, title),
      el("style", {}, new Raw(STYLE)),
    ),
    el(
      "body",
      {},
      el(
        "main",
        {},
        el(
          "header",
          {},
          el("h1", {}, `Cycle ${r.cycle.cycle_id} — ${r.cycle.tier} tier, suite ${r.cycle.suite_id}`),
          el(
            "p",
            { class: "meta" },
            `Started ${when(r.cycle.started_at)} · ended ${when(r.cycle.ended_at)} · plan ${r.cycle.plan_hash.slice(0, 12)} · report generated ${when(r.generated_at)}`,
          ),
          nav,
        ),
        sections.map((x) => x.html),
        el(
          "footer",
          {},
          "Generated by tiers central report from signed, checksummed bundles. The JSON report holds every figure shown here.",
        ),
      ),
    ),
  );
  return `<!DOCTYPE html>\n${page.html}\n`;
}
