import type { RunChange } from "../analysis/comparisons.js";
import type { CycleReport, PhaseReport } from "../analysis/report-model.js";
import { fmt, pct, phaseOrder, pValue, rate, when } from "./format.js";
import { badge, el, table, type Raw } from "./html-kit.js";

/** The report's tables and cards (the charts are in charts.ts). */

const verdictKind = (v: string) =>
  ({
    passed: "ok",
    pass: "ok",
    improved: "ok",
    warned: "warn",
    warn: "warn",
    changed: "warn",
    regressed: "bad",
    aborted: "bad",
    fail: "bad",
    failed: "bad",
  })[v] ?? "muted";

export function summaryCards(r: CycleReport): Raw {
  const s = r.summary;
  const card = (label: string, value: string, kind: string, detail: string) =>
    el(
      "div",
      { class: `card ${kind}` },
      el("div", { class: "value" }, value),
      el("div", { class: "label" }, label),
      el("div", { class: "detail" }, detail),
    );
  return el(
    "div",
    { class: "cards" },
    card(
      "cycle verdict",
      s.verdict.toUpperCase(),
      verdictKind(s.verdict),
      `${s.environments} environment${s.environments === 1 ? "" : "s"}, ${s.phases_run} phase runs`,
    ),
    card(
      "gate rules",
      `${s.gate_rules.failed_abort + s.gate_rules.failed_warn} failed`,
      s.gate_rules.failed_abort ? "bad" : s.gate_rules.failed_warn ? "warn" : "ok",
      `${s.gate_rules.passed} passed · ${s.gate_rules.failed_abort} abort · ${s.gate_rules.failed_warn} warn · ${s.gate_rules.not_evaluated} n/a`,
    ),
    card(
      "contract checks",
      `${s.contract_checks.failed} failed`,
      s.contract_checks.failed ? "warn" : "ok",
      `${s.contract_checks.passed} passed`,
    ),
    card(
      "CPU / memory bands",
      `${s.bands.missed} missed`,
      s.bands.missed ? "warn" : "ok",
      `${s.bands.reached} reached`,
    ),
    card(
      "vs. baseline",
      r.comparison.baseline ? `${s.regressions} regressed` : "no baseline",
      s.regressions ? "bad" : r.comparison.baseline ? "ok" : "muted",
      r.comparison.baseline
        ? `${s.improvements} improved · baseline ${r.comparison.baseline}`
        : (r.comparison.note ?? ""),
    ),
    card(
      "change points",
      String(s.change_points),
      s.change_points ? "warn" : "ok",
      `over ${r.history.runs} runs of ${r.cycle.tier}/${r.cycle.suite_id}`,
    ),
  );
}

function bandCell(b: PhaseReport["cpu"]): Raw | string {
  if (!b) return "–";
  const text = `${fmt(b.mean, 1)} % (${fmt(b.min, 0)}–${fmt(b.max, 0)})`;
  return b.reached === null
    ? text
    : el("span", { class: b.reached ? "ok-text" : "bad-text" }, text, b.reached ? " ✓" : " ✗");
}

export function summaryTable(r: CycleReport): Raw {
  const rows = [...r.phases].sort(
    (a, b) => a.index - b.index || a.environment_id.localeCompare(b.environment_id),
  );
  return table<PhaseReport>(
    [
      { header: "phase", cell: (p) => p.phase },
      { header: "environment", cell: (p) => `${p.environment_id} · ${p.region}` },
      { header: "gate", cell: (p) => badge(p.gate_verdict, verdictKind(p.gate_verdict)) },
      { header: "target rps", cell: (p) => fmt(p.target_rps, 0), numeric: true },
      { header: "achieved rps", cell: (p) => fmt(p.achieved_rps, 0), numeric: true },
      { header: "p50 ms", cell: (p) => fmt(p.p50_ms), numeric: true },
      { header: "p95 ms", cell: (p) => fmt(p.p95_ms), numeric: true },
      { header: "p99 ms", cell: (p) => fmt(p.p99_ms), numeric: true },
      { header: "error rate", cell: (p) => rate(p.error_rate), numeric: true },
      { header: "CPU mean (band)", cell: (p) => bandCell(p.cpu), numeric: true },
      { header: "memory mean (band)", cell: (p) => bandCell(p.memory), numeric: true },
    ],
    rows,
    "summary",
  );
}

export function comparisonTable(changes: readonly RunChange[]): Raw {
  const order = { regressed: 0, improved: 1, changed: 2, insufficient_data: 3, unchanged: 4 };
  const rows = [...changes].sort(
    (a, b) =>
      order[a.verdict] - order[b.verdict] ||
      phaseOrder(a.phase) - phaseOrder(b.phase) ||
      a.metric.localeCompare(b.metric),
  );
  return table<RunChange>(
    [
      { header: "verdict", cell: (c) => badge(c.verdict.replace("_", " "), verdictKind(c.verdict)) },
      { header: "environment", cell: (c) => c.environment },
      { header: "phase", cell: (c) => c.phase },
      { header: "metric", cell: (c) => el("code", {}, c.metric) },
      { header: "better", cell: (c) => c.better },
      { header: "baseline p50", cell: (c) => fmt(c.baseline.median), numeric: true },
      { header: "now p50", cell: (c) => fmt(c.candidate.median), numeric: true },
      { header: "change", cell: (c) => pct(c.relativeChange), numeric: true },
      { header: "p (Mann–Whitney)", cell: (c) => pValue(c.pValue), numeric: true },
      { header: "p adjusted (BH)", cell: (c) => pValue(c.pAdjusted), numeric: true },
      { header: "Cliff's δ", cell: (c) => fmt(c.cliffsDelta), numeric: true },
      { header: "n", cell: (c) => `${c.baseline.count}/${c.candidate.count}`, numeric: true },
    ],
    rows,
  );
}

export function peerTable(r: CycleReport): Raw {
  const rows = r.peers.by_environment.flatMap((p) => p.groups.map((g) => ({ ...p, g })));
  return table<(typeof rows)[number]>(
    [
      { header: "phase", cell: (x) => x.phase },
      { header: "metric", cell: (x) => el("code", {}, x.metric) },
      {
        header: "environment",
        cell: (x) => `${x.g.group}${x.g.group === x.reference ? " (reference)" : ""}`,
      },
      { header: "median", cell: (x) => fmt(x.g.median), numeric: true },
      { header: "vs. median of environments", cell: (x) => pct(x.g.deviation), numeric: true },
      {
        header: "vs. reference",
        cell: (x) =>
          x.g.change ? badge(x.g.change.verdict.replace("_", " "), verdictKind(x.g.change.verdict)) : "–",
      },
      { header: "p adjusted (BH)", cell: (x) => pValue(x.g.change?.pAdjusted), numeric: true },
    ],
    rows,
  );
}

export function historyTable(r: CycleReport): Raw {
  const rows = r.history.series.flatMap((s) =>
    s.change_points.map((c) => ({ ...c, phase: s.phase, metric: s.metric })),
  );
  return table<(typeof rows)[number]>(
    [
      { header: "metric", cell: (c) => el("code", {}, c.metric) },
      { header: "phase", cell: (c) => c.phase },
      { header: "from run", cell: (c) => `${c.cycle_id} (${when(c.started_at)})` },
      { header: "direction", cell: (c) => badge(c.direction, verdictKind(c.direction)) },
      { header: "before", cell: (c) => fmt(c.before), numeric: true },
      { header: "after", cell: (c) => fmt(c.after), numeric: true },
      { header: "change", cell: (c) => pct(c.relative_change), numeric: true },
      { header: "p (permutation)", cell: (c) => pValue(c.p_value), numeric: true },
    ],
    rows,
  );
}

export function gatesTable(r: CycleReport): Raw {
  return table<CycleReport["gates"][number]>(
    [
      { header: "environment", cell: (g) => g.environment_id },
      { header: "phase", cell: (g) => g.phase },
      { header: "rule", cell: (g) => g.rule_id },
      { header: "check", cell: (g) => (g.metric ? `${g.metric} ${g.op} ${g.threshold}` : g.check) },
      { header: "source", cell: (g) => g.source },
      { header: "action", cell: (g) => g.action },
      { header: "observed", cell: (g) => fmt(g.observed, 4), numeric: true },
      { header: "outcome", cell: (g) => badge(g.outcome.replace("_", " "), verdictKind(g.outcome)) },
      { header: "note", cell: (g) => g.note ?? "" },
    ],
    [...r.gates].sort(
      (a, b) => a.environment_id.localeCompare(b.environment_id) || phaseOrder(a.phase) - phaseOrder(b.phase),
    ),
  );
}

export function alertsTable(alerts: NonNullable<CycleReport["monitoring"]>["alerts"]): Raw {
  return table<(typeof alerts)[number]>(
    [
      { header: "alert", cell: (a) => a.alert },
      { header: "severity", cell: (a) => badge(a.severity, a.severity === "critical" ? "bad" : "warn") },
      { header: "environment", cell: (a) => a.environment },
      { header: "first firing", cell: (a) => a.first_firing_at },
      { header: "last firing", cell: (a) => a.last_firing_at },
      { header: "action", cell: (a) => a.action },
    ],
    alerts,
  );
}

/** Each fault: its window, and the SUT's detection and recovery as the orchestrator measured them. */
export function faultsTable(r: CycleReport): Raw {
  const s = (v: number | null, none: string) => (v === null ? none : `${(v / 1000).toFixed(1)} s`);
  return table<CycleReport["faults"][number]>(
    [
      { header: "environment", cell: (f) => f.environment_id },
      { header: "phase", cell: (f) => f.phase ?? "" },
      { header: "scenario", cell: (f) => f.scenario },
      {
        header: "held",
        cell: (f) => s(f.undone_ms === null ? null : f.undone_ms - f.applied_ms, "–"),
        numeric: true,
      },
      { header: "detection", cell: (f) => s(f.detection_ms, "no failed probe"), numeric: true },
      {
        header: "recovery",
        cell: (f) => s(f.recovery_ms, f.detection_ms === null ? "–" : "not healthy again"),
        numeric: true,
      },
    ],
    r.faults,
  );
}

export function contractsTable(r: CycleReport): Raw {
  return table<CycleReport["contracts"][number]>(
    [
      { header: "environment", cell: (c) => c.environment_id },
      { header: "test", cell: (c) => c.test_id },
      { header: "tool", cell: (c) => c.tool },
      { header: "contract", cell: (c) => c.contract },
      { header: "status", cell: (c) => badge(c.status, verdictKind(c.status)) },
      { header: "checks", cell: (c) => c.checks.map((k) => `${k.name}: ${k.outcome}`).join(", ") || "–" },
      { header: "reason", cell: (c) => c.reason ?? "" },
    ],
    r.contracts,
  );
}

export function statisticsTable(r: CycleReport): Raw {
  const rows = [...r.statistics].sort(
    (a, b) =>
      a.environment_id.localeCompare(b.environment_id) ||
      phaseOrder(a.phase) - phaseOrder(b.phase) ||
      a.metric.localeCompare(b.metric),
  );
  return table<CycleReport["statistics"][number]>(
    [
      { header: "environment", cell: (s) => s.environment_id },
      { header: "phase", cell: (s) => s.phase },
      { header: "metric", cell: (s) => el("code", {}, s.metric) },
      { header: "unit", cell: (s) => s.unit ?? "" },
      { header: "count", cell: (s) => s.count, numeric: true },
      { header: "mean", cell: (s) => fmt(s.mean), numeric: true },
      { header: "p50", cell: (s) => fmt(s.p50), numeric: true },
      { header: "p90", cell: (s) => fmt(s.p90), numeric: true },
      { header: "p99", cell: (s) => fmt(s.p99), numeric: true },
      { header: "min", cell: (s) => fmt(s.min), numeric: true },
      { header: "max", cell: (s) => fmt(s.max), numeric: true },
      { header: "stddev", cell: (s) => fmt(s.stddev), numeric: true },
      {
        header: "95 % CI of mean",
        cell: (s) => (s.ci95 ? `${fmt(s.ci95[0])} – ${fmt(s.ci95[1])}` : "–"),
        numeric: true,
      },
    ],
    rows,
    "dense",
  );
}

export function provenanceTable(r: CycleReport): Raw {
  return table<CycleReport["environments"][number]>(
    [
      { header: "environment", cell: (e) => `${e.environment_id} · ${e.region} (${e.region_role})` },
      { header: "verdict", cell: (e) => badge(e.verdict, verdictKind(e.verdict)) },
      { header: "started", cell: (e) => when(e.started_at) },
      { header: "saturation rps", cell: (e) => fmt(e.saturation_rps, 0), numeric: true },
      { header: "SUT CPU ms / request", cell: (e) => fmt(e.cpu_ms_per_request), numeric: true },
      {
        header: "CPU at saturation",
        cell: (e) => (e.saturation_cpu_pct === null ? "–" : `${fmt(e.saturation_cpu_pct, 0)} %`),
        numeric: true,
      },
      {
        header: "relative rates",
        cell: (e) =>
          e.rate_basis === "cpu"
            ? "CPU band ÷ CPU per request, ≤ saturation"
            : e.rate_basis === "saturation"
              ? "fraction of saturation"
              : "–",
      },
      {
        header: "results / samples / events",
        cell: (e) => `${e.counts.results} / ${e.counts.samples} / ${e.counts.events}`,
        numeric: true,
      },
      { header: "bundle", cell: (e) => el("code", {}, e.bundle_id) },
      { header: "signing key", cell: (e) => el("code", {}, `${e.key_id.slice(0, 16)}…`) },
      { header: "archive sha256", cell: (e) => el("code", {}, `${e.archive_sha256.slice(0, 16)}…`) },
    ],
    r.environments,
  );
}
