import type { CycleReport, PhaseReport } from "../analysis/report-model.js";
import { escapeMd, fmt, mdCode, pct, phaseOrder, pValue, rate, when } from "./format.js";

const MAX_ROWS = 10;

function phaseRows(report: CycleReport): string[] {
  const phases = [...new Set(report.phases.map((p) => p.phase))].sort(
    (a, b) => phaseOrder(a) - phaseOrder(b),
  );
  return phases.map((phase) => {
    const rows = report.phases.filter((p) => p.phase === phase);
    const gates = rows
      .map((p) =>
        p.gate_verdict === "passed"
          ? "✅"
          : p.gate_verdict === "warned"
            ? "⚠️"
            : p.gate_verdict === "not_run"
              ? "⏭️"
              : "❌",
      )
      .join("");
    const max = (f: (p: PhaseReport) => number | null) => {
      const v = rows.map(f).filter((x): x is number => x !== null);
      return v.length ? Math.max(...v) : null;
    };
    const sum = rows.reduce((s, p) => s + (p.achieved_rps ?? 0), 0);
    const band = (f: (p: PhaseReport) => boolean | null | undefined) => {
      const v = rows.map(f).filter((x) => x !== null && x !== undefined);
      return v.length === 0 ? "–" : `${v.filter(Boolean).length}/${v.length}`;
    };
    return `| ${escapeMd(phase)} | ${gates} | ${rows.some((p) => p.achieved_rps !== null) ? fmt(sum, 0) : "–"} | ${fmt(max((p) => p.p99_ms))} | ${rate(max((p) => p.error_rate))} | ${band((p) => p.cpu?.reached)} | ${band((p) => p.memory?.reached)} |`;
  });
}

/** A compact summary for a pull-request comment: verdict, phases, what changed, what failed. */
export function renderMarkdown(report: CycleReport): string {
  const { cycle, summary, comparison } = report;
  const icon = cycle.verdict === "passed" ? "✅" : "❌";
  const envs = report.environments
    .map(
      (e) =>
        `${escapeMd(e.environment_id)} ${escapeMd(e.region)}${e.region_role === "primary" ? " (primary)" : ""}`,
    )
    .join(", ");
  const out: string[] = [];
  out.push(
    `## ${icon} test-tiers cycle ${mdCode(cycle.cycle_id)} — ${escapeMd(cycle.tier)} / ${escapeMd(cycle.suite_id)}: **${cycle.verdict}**`,
  );
  out.push("");
  out.push(
    `${summary.environments} environment${summary.environments === 1 ? "" : "s"} (${envs}) · ${summary.phases_run} phase runs · started ${when(cycle.started_at)}`,
  );
  out.push(
    `Gates: ${summary.gate_rules.passed} passed, ${summary.gate_rules.failed_abort} aborted, ${summary.gate_rules.failed_warn} warned · ` +
      `contract checks: ${summary.contract_checks.passed} passed, ${summary.contract_checks.failed} failed · ` +
      `target bands: ${summary.bands.reached} reached, ${summary.bands.missed} missed`,
  );
  out.push(
    comparison.baseline
      ? `Against ${mdCode(comparison.baseline)} (${comparison.selected === "given" ? "given baseline" : "last passing run"}): ` +
          `**${comparison.counts.regressed} regressed**, ${comparison.counts.improved} improved, ${comparison.counts.unchanged} unchanged.`
      : `No baseline: ${escapeMd(comparison.note ?? "none")}.`,
  );
  out.push("");
  out.push("| phase | gates | achieved rps (Σ) | p99 ms (max) | error rate (max) | CPU band | memory band |");
  out.push("| --- | --- | ---: | ---: | ---: | :---: | :---: |");
  out.push(...phaseRows(report));

  const changed = comparison.changes
    .filter((c) => c.verdict === "regressed" || c.verdict === "improved")
    .sort((a, b) =>
      a.verdict === b.verdict
        ? Math.abs(b.cliffsDelta ?? 0) - Math.abs(a.cliffsDelta ?? 0)
        : a.verdict === "regressed"
          ? -1
          : 1,
    );
  if (changed.length > 0) {
    out.push("", `**Changes against the baseline** (${changed.length}; largest first)`, "");
    out.push("| | environment | phase | metric | baseline p50 | now p50 | change | p (adj.) | Cliff's δ |");
    out.push("| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: |");
    for (const c of changed.slice(0, MAX_ROWS))
      out.push(
        `| ${c.verdict === "regressed" ? "🔺 regressed" : "🟢 improved"} | ${escapeMd(c.environment)} | ${escapeMd(c.phase)} | ${mdCode(c.metric)} | ${fmt(c.baseline.median)} | ${fmt(c.candidate.median)} | ${pct(c.relativeChange)} | ${pValue(c.pAdjusted)} | ${fmt(c.cliffsDelta)} |`,
      );
    if (changed.length > MAX_ROWS)
      out.push(`| | … ${changed.length - MAX_ROWS} more in the HTML/JSON report | | | | | | | |`);
  }
  const cps = report.history.series.flatMap((s) =>
    s.change_points.map((c) => ({ ...c, phase: s.phase, metric: s.metric })),
  );
  if (cps.length > 0) {
    out.push("", `**Change points over ${report.history.runs} runs** (E-divisive means)`, "");
    for (const c of cps.slice(0, MAX_ROWS))
      out.push(
        `- ${mdCode(c.metric)} in ${escapeMd(c.phase)}: ${c.direction} ${pct(c.relative_change)} (${fmt(c.before)} → ${fmt(c.after)}) from ${mdCode(c.cycle_id)} (p = ${pValue(c.p_value)})`,
      );
    if (cps.length > MAX_ROWS) out.push(`- … ${cps.length - MAX_ROWS} more`);
  }
  const failures = [
    ...report.gates
      .filter((g) => g.outcome === "fail")
      .map(
        (g) =>
          `- gate ${escapeMd(g.rule_id)} (${escapeMd(g.action)}) in ${escapeMd(g.environment_id)}: ${escapeMd(g.check)}${g.metric ? ` ${escapeMd(g.metric)} ${escapeMd(g.op ?? "")} ${g.threshold}, observed ${fmt(g.observed)}` : ""}`,
      ),
    ...report.contracts
      .filter((c) => c.status !== "passed" && c.status !== "skipped")
      .map(
        (c) =>
          `- ${escapeMd(c.test_id)} in ${escapeMd(c.environment_id)}: ${escapeMd(c.status)}${c.reason ? ` — ${escapeMd(c.reason)}` : ""}`,
      ),
  ];
  if (failures.length > 0) {
    out.push("", `**Failures** (${failures.length})`, "");
    out.push(...failures.slice(0, MAX_ROWS));
    if (failures.length > MAX_ROWS) out.push(`- … ${failures.length - MAX_ROWS} more`);
  }
  if (report.monitoring) {
    const alerts = report.monitoring.alerts;
    out.push("", `**Alerts fired** (${alerts.length}, ${escapeMd(report.monitoring.source)})`, "");
    if (alerts.length === 0) out.push("- none");
    for (const a of alerts.slice(0, MAX_ROWS))
      out.push(
        `- ${escapeMd(a.alert)} (${escapeMd(a.severity)}) in ${escapeMd(a.environment)}: ${escapeMd(a.first_firing_at)} → ${escapeMd(a.last_firing_at)}; action ${mdCode(a.action)}`,
      );
    if (alerts.length > MAX_ROWS) out.push(`- … ${alerts.length - MAX_ROWS} more`);
  }
  out.push(
    "",
    `<sub>tiers central report · plan ${cycle.plan_hash.slice(0, 12)} · the HTML and JSON reports hold every figure</sub>`,
  );
  return `${out.join("\n")}\n`;
}
