import type { ContractReport, CycleReport, GateReport } from "../analysis/report-model.js";
import { escapeXml as x, fmt } from "./format.js";

interface Case {
  readonly classname: string;
  readonly name: string;
  readonly time: number;
  readonly failure?: { readonly type: string; readonly message: string; readonly text?: string };
  readonly error?: { readonly type: string; readonly message: string };
  readonly skipped?: string;
}

function gateCase(env: string, g: GateReport): Case {
  const condition = g.metric ? `${g.metric} ${g.op} ${g.threshold}` : g.check;
  const base = {
    classname: `${env}.${g.phase}.gate`,
    name: `${g.rule_id} ${condition} (${g.action}, ${g.source})`,
    time: 0,
  };
  if (g.outcome === "fail")
    return {
      ...base,
      failure: {
        type: g.action,
        message: g.metric
          ? `${g.metric} = ${fmt(g.observed)} broke ${condition}`
          : `${g.check}${g.note ? `: ${g.note}` : ""}`,
      },
    };
  if (g.outcome === "not_evaluated") return { ...base, skipped: g.note ?? "not evaluated" };
  return base;
}

function contractCases(env: string, c: ContractReport): Case[] {
  const classname = `${env}.${c.phase}.${c.test_name}`;
  const time = c.duration_ms / 1000;
  if (c.checks.length > 0)
    return c.checks.map((check) => ({
      classname,
      name: `${check.name} (${c.contract})`,
      time,
      ...(check.outcome === "failed"
        ? { failure: { type: "contract", message: `${check.name} failed for result ${c.result_id}` } }
        : {}),
    }));
  // No rule to check: the result itself says whether the tool ran.
  const name = `${c.test_id} ran (${c.tool})`;
  if (c.status === "skipped") return [{ classname, name, time, skipped: c.reason ?? "skipped" }];
  if (c.status === "passed") return [{ classname, name, time }];
  return [{ classname, name, time, error: { type: c.status, message: c.reason ?? c.status } }];
}

function renderCase(c: Case): string {
  const open = `    <testcase classname="${x(c.classname)}" name="${x(c.name)}" time="${c.time.toFixed(3)}"`;
  if (c.failure)
    return `${open}>\n      <failure type="${x(c.failure.type)}" message="${x(c.failure.message)}">${x(c.failure.text ?? c.failure.message)}</failure>\n    </testcase>`;
  if (c.error)
    return `${open}>\n      <error type="${x(c.error.type)}" message="${x(c.error.message)}"/>\n    </testcase>`;
  if (c.skipped !== undefined) return `${open}>\n      <skipped message="${x(c.skipped)}"/>\n    </testcase>`;
  return `${open}/>`;
}

/** JUnit XML: a test suite per environment, a test case per phase gate rule and per contract rule. */
export function renderJunit(report: CycleReport): string {
  const suites = report.environments.map((e) => {
    const cases = [
      ...report.gates
        .filter((g) => g.environment_id === e.environment_id)
        .map((g) => gateCase(e.environment_id, g)),
      ...report.contracts
        .filter((c) => c.environment_id === e.environment_id)
        .flatMap((c) => contractCases(e.environment_id, c)),
    ];
    const seconds = e.ended_at ? Math.max(0, (Date.parse(e.ended_at) - Date.parse(e.started_at)) / 1000) : 0;
    return { e, cases, seconds };
  });
  const all = suites.flatMap((s) => s.cases);
  const count = (cases: readonly Case[]) => ({
    tests: cases.length,
    failures: cases.filter((c) => c.failure).length,
    errors: cases.filter((c) => c.error).length,
    skipped: cases.filter((c) => c.skipped !== undefined).length,
  });
  const t = count(all);
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${x(`test-tiers cycle ${report.cycle.cycle_id} (${report.cycle.tier}/${report.cycle.suite_id})`)}" tests="${t.tests}" failures="${t.failures}" errors="${t.errors}" skipped="${t.skipped}" time="${suites.reduce((s, x) => Math.max(s, x.seconds), 0).toFixed(3)}">`,
  ];
  for (const { e, cases, seconds } of suites) {
    const c = count(cases);
    out.push(
      `  <testsuite name="${x(`${e.environment_id} ${e.region} (${e.region_role})`)}" tests="${c.tests}" failures="${c.failures}" errors="${c.errors}" skipped="${c.skipped}" time="${seconds.toFixed(3)}" timestamp="${x(e.started_at)}">`,
      "    <properties>",
      ...[
        ["cycle_id", report.cycle.cycle_id],
        ["bundle_id", e.bundle_id],
        ["verdict", e.verdict],
        ["key_id", e.key_id],
        ["archive_sha256", e.archive_sha256],
      ].map(([n, v]) => `      <property name="${x(n!)}" value="${x(v!)}"/>`),
      "    </properties>",
      ...cases.map(renderCase),
      "  </testsuite>",
    );
  }
  out.push("</testsuites>");
  return `${out.join("\n")}\n`;
}
