/**
 * Runner overhead (issue 6): `tiers local` end to end, its wall time against the plan's total
 * phase time D (target ≤ 1.05·D + 10 s, start-up, calibration, hand-off, import, analysis and
 * reports included), with each part printed; one column per number of environments, side by side.
 *
 *   npm run bench -- runner [--tier stress] [--time-scale <x>] [--environments 1,2]
 *
 * Without --time-scale the local target's default is used (the tier's phases take 72 s).
 * Relative load mode (the local default) calibrates each SUT before the first phase: that time is
 * measurement, not runner overhead, so the table shows the target both with and without it
 * (`--load-mode absolute` in a suite file skips calibration).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Writable } from "node:stream";
import { resolveLocalOptions } from "../../runners/local/options.js";
import { runLocal, type LocalRunResult } from "../../runners/local/run-local.js";
import { renderTable } from "../../runners/format/table.js";

const { values } = parseArgs({
  options: {
    tier: { type: "string", default: "stress" },
    "time-scale": { type: "string" },
    environments: { type: "string", default: "1,2" },
  },
});
const counts = values.environments.split(",").map(Number);
const dir = mkdtempSync(join(tmpdir(), "bench-runner-"));
console.log(
  `load average at start: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}`,
);

const s = (ms: number) => (ms / 1000).toFixed(1);
interface Column {
  readonly n: number;
  readonly phaseMs: number;
  readonly result: LocalRunResult;
  /** Calibration and the phases' actual wall time, from the report (the slowest environment). */
  readonly calibrationMs: number;
  readonly phasesWallMs: number;
}
const columns: Column[] = [];
try {
  for (const n of counts) {
    const options = resolveLocalOptions(
      { out: join(dir, `out-${n}`), db: join(dir, `central-${n}.db`) },
      {
        tier: values.tier,
        environments: String(n),
        ...(values["time-scale"] !== undefined ? { time_scale: values["time-scale"] } : {}),
      },
    );
    process.stdout.write(`running ${values.tier} with ${n} environment(s)…\n`);
    const quiet = new Writable({ write: (_c, _e, cb) => cb() });
    const never = new AbortController().signal;
    const result = await runLocal(options, { out: quiet, tty: false }, { interrupt: never, force: never });
    let calibrationMs = 0;
    let phasesWallMs = 0;
    for (const env of result.report?.environments ?? []) {
      const mine = result.report!.phases.filter((p) => p.environment_id === env.environment_id);
      const first = Math.min(...mine.map((p) => Date.parse(p.started_at ?? env.started_at)));
      const last = Math.max(...mine.map((p) => Date.parse(p.ended_at ?? p.started_at ?? env.started_at)));
      calibrationMs = Math.max(calibrationMs, first - Date.parse(env.started_at));
      phasesWallMs = Math.max(phasesWallMs, last - first);
    }
    columns.push({ n, phaseMs: options.plan.totals.phase_time_ms, result, calibrationMs, phasesWallMs });
    process.stdout.write(`  exit ${result.exitCode}, verdict ${result.report?.cycle.verdict ?? "none"}\n`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const row = (label: string, f: (c: Column) => string): string[] => [label, ...columns.map(f)];
const target = (c: Column) => 1.05 * c.phaseMs + 10_000;
console.log(
  `\n${renderTable(
    [{ header: "part (s)" }, ...columns.map((c) => ({ header: `${c.n} env`, align: "right" as const }))],
    [
      row("plan phase time D", (c) => s(c.phaseMs)),
      row("checks (options, db, tools)", (c) => s(c.result.timings.preflight)),
      row("start (dirs, processes, keys)", (c) => s(c.result.timings.start)),
      row("cycles (trigger → all ended)", (c) => s(c.result.timings.cycles)),
      row("  of which calibration", (c) => s(c.calibrationMs)),
      row("  of which phases (wall)", (c) => s(c.phasesWallMs)),
      row("retrieve bundles", (c) => s(c.result.timings.retrieve)),
      row("teardown", (c) => s(c.result.timings.teardown)),
      row("import + analysis + reports", (c) => s(c.result.timings.central)),
      row("total wall", (c) => s(c.result.timings.total)),
      row("target 1.05·D + 10", (c) => s(target(c))),
      row("total / D", (c) => (c.result.timings.total / c.phaseMs).toFixed(3)),
      row("overhead beyond D", (c) => s(c.result.timings.total - c.phaseMs)),
      row("  without calibration", (c) => s(c.result.timings.total - c.phaseMs - c.calibrationMs)),
      row("met, calibration counted", (c) => (c.result.timings.total <= target(c) ? "yes" : "no")),
      row("met, calibration as measurement", (c) =>
        c.result.timings.total - c.calibrationMs <= target(c) ? "yes" : "no",
      ),
    ],
  )}`,
);
