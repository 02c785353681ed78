import { ExitCode, type ExitCodeValue } from "../../tiers/errors.js";
import type { CycleReport } from "../../workloads/central/analysis/report-model.js";
import { fmt, rate } from "../../workloads/central/reports/format.js";
import { renderTable } from "../format/table.js";

/** What fails a run: `gate` (exit 4 when a gate aborted), `contract` (also 5 for a failed contract), `never`. */
export const FAIL_ON = ["gate", "contract", "never"] as const;
export type FailOn = (typeof FAIL_ON)[number];

/** The exit code a finished run maps to (README "Exit codes"). */
export function verdictExitCode(
  report: CycleReport | null,
  infrastructureProblems: number,
  failOn: FailOn,
): ExitCodeValue {
  if (infrastructureProblems > 0 || report === null) return ExitCode.Infrastructure;
  const gatesFailed =
    report.environments.some((e) => e.verdict !== "passed") || report.summary.gate_rules.failed_abort > 0;
  const contractsFailed = report.contracts.some((c) => c.status === "failed" || c.status === "invalid");
  if (failOn === "never") return ExitCode.Ok;
  if (gatesFailed) return ExitCode.GateFailed;
  if (failOn === "contract" && contractsFailed) return ExitCode.ContractFailed;
  return ExitCode.Ok;
}

function bandCell(band: CycleReport["phases"][number]["cpu"]): string {
  if (!band || band.mean === null) return "–";
  const mark = band.reached === null ? "" : band.reached ? " ✓" : " ✗";
  return `${band.mean.toFixed(0)}%${mark}`;
}

/** The summary printed at the end: per environment and phase, the figures, bands and gates. */
export function renderSummary(report: CycleReport): string {
  const out: string[] = [];
  out.push(
    renderTable(
      [
        { header: "env" },
        { header: "region" },
        { header: "phase" },
        { header: "status" },
        { header: "target rps", align: "right" },
        { header: "rps", align: "right" },
        { header: "p50 ms", align: "right" },
        { header: "p99 ms", align: "right" },
        { header: "errors", align: "right" },
        { header: "cpu (band)", align: "right" },
        { header: "mem (band)", align: "right" },
        { header: "gate" },
      ],
      report.phases.map((p) => [
        p.environment_id,
        p.region,
        p.phase,
        p.status,
        fmt(p.target_rps, 0),
        fmt(p.achieved_rps, 0),
        fmt(p.p50_ms),
        fmt(p.p99_ms),
        rate(p.error_rate),
        bandCell(p.cpu),
        bandCell(p.memory),
        p.gate_verdict,
      ]),
    ),
  );
  for (const e of report.environments.filter((e) => e.saturation_rps !== null)) {
    out.push(
      e.rate_basis === "cpu"
        ? `${e.environment_id}: saturation ${fmt(e.saturation_rps, 0)} rps, SUT CPU ${fmt(e.cpu_ms_per_request)} ms a request ` +
            `(${fmt(e.saturation_cpu_pct, 0)}% of its share at saturation): relative rates aim at the CPU bands, at most the saturation`
        : `${e.environment_id}: saturation ${fmt(e.saturation_rps, 0)} rps, the SUT's CPU not measured: relative rates are fractions of it`,
    );
  }
  const byStatus = new Map<string, number>();
  for (const c of report.contracts) byStatus.set(c.status, (byStatus.get(c.status) ?? 0) + 1);
  out.push("");
  out.push(
    `Tests: ${[...byStatus].map(([s, n]) => `${n} ${s}`).join(", ") || "none"}; gate rules: ${report.summary.gate_rules.passed} passed, ` +
      `${report.summary.gate_rules.failed_abort} failed (abort), ${report.summary.gate_rules.failed_warn} failed (warn); ` +
      `CPU/memory bands: ${report.summary.bands.reached} reached, ${report.summary.bands.missed} missed`,
  );
  for (const c of report.contracts.filter((c) => c.status !== "passed")) {
    out.push(
      `  ${c.status.padEnd(7)} ${c.environment_id} ${c.phase}/${c.test_name} (${c.tool}): ${c.reason ?? ""}`,
    );
  }
  for (const g of report.gates.filter((g) => g.outcome === "fail" && g.action === "abort")) {
    const figure =
      g.metric !== null ? `${g.metric} ${fmt(g.observed)} ${g.op ?? ""} ${fmt(g.threshold)}` : g.check;
    out.push(
      `  gate    ${g.environment_id} ${g.phase} ${g.rule_id}: ${figure} (${g.source})${g.note ? `, ${g.note}` : ""}`,
    );
  }

  const cmp = report.comparison;
  out.push(
    cmp.baseline
      ? `Compared with ${cmp.baseline} (${cmp.selected === "given" ? "given" : "the last passing run"}): ${cmp.counts.regressed} regressed, ${cmp.counts.improved} improved, ${cmp.counts.unchanged} unchanged`
      : `No baseline: ${cmp.note ?? "this is the first run of this tier and suite"}`,
  );
  return out.join("\n");
}
