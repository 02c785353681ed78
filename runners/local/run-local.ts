import { randomBytes } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import { join, relative } from "node:path";
import { ExitCode, TiersError, type ExitCodeValue } from "../../tiers/errors.js";
import { formatDuration } from "../../tiers/units.js";
import type { CycleReport } from "../../workloads/central/analysis/report-model.js";
import type { CentralDb } from "../../workloads/central/db/connect.js";
import { fmt, rate } from "../../workloads/central/reports/format.js";
import type { ReportFormat } from "../../workloads/central/reports/formats.js";
import { openForCommand } from "../cli/commands/central-import.js";
import { describeGate, describeLoad } from "../cli/commands/plan.js";
import { driveCycle } from "../cycle/drive.js";
import { importAndReport, retrieveBundles, writeRunKeyring } from "../cycle/handoff.js";
import { ProgressDisplay, type EnvironmentView, type ProgressOutput } from "../cycle/progress-display.js";
import { renderTable } from "../format/table.js";
import { provisionLocalEnvironments, type LocalEnvironment } from "./environments.js";
import type { FailOn, LocalOptions } from "./options.js";
import type { SpawnedProcess } from "./orchestrator-process.js";
import { missingParts, portIsFree, preflight, type SkippedPart } from "./preflight.js";

export interface LocalRunIo {
  readonly out: ProgressOutput;
  /** A terminal: the progress block is redrawn in place; otherwise timestamped lines. */
  readonly tty: boolean;
}

export interface LocalRunControl {
  /** Ctrl-C / SIGTERM: stop waiting, tear down gracefully, exit 130. */
  readonly interrupt: AbortSignal;
  /** A second Ctrl-C: kill every process group at once. */
  readonly force: AbortSignal;
}

export interface LocalRunResult {
  readonly exitCode: ExitCodeValue;
  readonly cycleId: string;
  readonly runDir: string;
  readonly views: readonly EnvironmentView[];
  readonly report: CycleReport | null;
  readonly reports: Readonly<Partial<Record<ReportFormat, string>>>;
  readonly skipped: readonly SkippedPart[];
  /** Why each environment that failed failed (process died, bundle not retrieved, refused). */
  readonly problems: ReadonlyMap<string, string>;
  /** Wall time of each part of the run, ms (the runner benchmark prints them). */
  readonly timings: RunTimings;
}

export interface RunTimings {
  /** Option checks, database migration, tool lookup. */
  readonly preflight: number;
  /** Directories written, orchestrators started and listening, keys read. */
  readonly start: number;
  /** From the triggers until every environment's cycle ended (calibration included). */
  readonly cycles: number;
  /** Bundles exported and downloaded into the inbox. */
  readonly retrieve: number;
  /** Every process stopped, ports checked, directories removed. */
  readonly teardown: number;
  /** Import, analysis and the four reports. */
  readonly central: number;
  readonly total: number;
}

/** A run's cycle id: sortable, readable, unique (`local-20261122T201955Z-3fa2`). */
export function newCycleId(now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  return `local-${stamp}-${randomBytes(2).toString("hex")}`;
}

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

/** Stops every process the run spawned (the whole group each), by force when `force` aborts. */
async function stopAll(spawned: readonly SpawnedProcess[], force: AbortSignal): Promise<void> {
  const killAll = () => spawned.forEach((p) => p.kill());
  if (force.aborted) killAll();
  force.addEventListener("abort", killAll, { once: true });
  try {
    await Promise.all(spawned.map((p) => p.stop(10_000)));
  } finally {
    force.removeEventListener("abort", killAll);
  }
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

/**
 * `tiers local`: the whole local target. Checks everything it can first, creates each isolated
 * environment (directory, token, key, SQLite, orchestrator process with its own SUT), triggers
 * the cycle in every environment through its API, shows live progress, retrieves the bundles
 * into the central inbox, tears every environment down (always: success, failure, interrupt),
 * then imports, analyses and writes the reports. Never calls process.exit.
 */
export async function runLocal(
  options: LocalOptions,
  io: LocalRunIo,
  control: LocalRunControl,
): Promise<LocalRunResult> {
  const timer = partTimer();
  await preflight(options);
  let cdb: CentralDb;
  try {
    // Opened (and migrated) before anything starts, so a wrong database fails now, not after the run.
    cdb = await openForCommand(options.db, true);
  } catch (error) {
    if (error instanceof TiersError) throw error;
    throw new TiersError(
      ExitCode.Infrastructure,
      `the results database ${options.db} cannot be opened: ${(error as Error).message}; nothing was started`,
    );
  }
  try {
    return await runWithCentre(options, io, control, cdb, timer);
  } finally {
    await cdb.close();
  }
}

/** Wall time per part of a run, each part measured from the end of the previous one. */
function partTimer() {
  const t0 = Date.now();
  let last = t0;
  const marks: Partial<Record<keyof RunTimings, number>> = {};
  return {
    t0,
    marks,
    mark: (part: keyof RunTimings): void => {
      const now = Date.now();
      marks[part] = now - last;
      last = now;
    },
  };
}

async function runWithCentre(
  options: LocalOptions,
  io: LocalRunIo,
  control: LocalRunControl,
  cdb: CentralDb,
  { t0, marks, mark }: ReturnType<typeof partTimer>,
): Promise<LocalRunResult> {
  const { plan } = options;
  const say = (line = "") => io.out.write(`${line}\n`);
  const skipped = await missingParts(plan);
  mark("preflight");
  const cycleId = newCycleId();
  const runDir = join(options.outDir, cycleId);
  const envRoot = join(runDir, "environments");
  const inbox = join(runDir, "inbox");
  const keyringFile = join(runDir, "keyring");
  await mkdir(envRoot, { recursive: true });

  const phases = plan.environments[0]!.phases;
  say(
    `tiers local: tier ${plan.tier.name}, ${plan.environments.length} environment${plan.environments.length === 1 ? "" : "s"}, ` +
      `${phases.length} phases (${phases.map((p) => p.name).join(", ")}), ${formatDuration(plan.totals.phase_time_ms)} of phases ` +
      `(time scale ${plan.options.time_scale}), load ${plan.options.load_mode} × ${plan.options.load_scale}`,
  );
  say(
    `cycle ${cycleId}, plan ${plan.hash.slice(0, 12)}, run directory ${relative(process.cwd(), runDir) || "."}`,
  );
  for (const p of phases)
    say(
      `  ${p.name.padEnd(9)} ${formatDuration(p.duration_ms).padStart(6)}  load ${describeLoad(p.load)}; gate ${describeGate(p.gate)}`,
    );
  for (const s of skipped)
    say(`skipped on this machine: ${s.what}: ${s.reason}; affects ${s.affects.join(", ")}`);

  const spawned: SpawnedProcess[] = [];
  let environments: LocalEnvironment[] = [];
  let views: EnvironmentView[] = [];
  let problems = new Map<string, string>();
  let display: ProgressDisplay | undefined;
  try {
    environments = await provisionLocalEnvironments({
      plan,
      root: envRoot,
      logDir: join(runDir, "logs"),
      regionLatency: options.regionLatency,
      ...(options.portBase !== undefined ? { portBase: options.portBase } : {}),
      signal: control.interrupt,
      onSpawn: (p) => spawned.push(p),
    });
    await writeRunKeyring(
      keyringFile,
      cycleId,
      environments.map((e) => e.keyringLine),
    );
    for (const e of environments) {
      say(
        `${e.id}: orchestrator pid ${e.process.pid} on ${e.process.url}, region ${e.region}` +
          `${options.regionLatency ? ` (simulated latency ${e.regionLatencyMs} ms)` : ""}, directory ${relative(process.cwd(), e.dir)}`,
      );
    }
    if (control.interrupt.aborted) throw new TiersError(ExitCode.Interrupted, "interrupted");
    mark("start");
    views = await driveCycle({
      plan,
      environments,
      cycleId,
      signal: control.interrupt,
      onUpdate: (v) => {
        display ??= new ProgressDisplay(io.out, io.tty, v);
        display.update();
      },
      onEvent: (line) => (display ? display.log(line) : say(line)),
    });
    display?.finish();
    mark("cycles");
    const retrieved = await retrieveBundles(environments, views, inbox, (line) => say(line));
    problems = retrieved.problems;
    mark("retrieve");
  } finally {
    const ports = environments.map((e) => e.process.port);
    if (spawned.length > 0) {
      say(
        `tearing down: stopping ${spawned.length} orchestrator process group${spawned.length === 1 ? "" : "s"}`,
      );
      await stopAll(spawned, control.force);
      const busy: number[] = [];
      for (const port of ports) if (!(await portIsFree(port))) busy.push(port);
      say(
        busy.length === 0
          ? `stopped: every process of the run has exited, ${ports.length} port${ports.length === 1 ? "" : "s"} free`
          : `warning: ports still in use after teardown: ${busy.join(", ")}`,
      );
    }
    if (!options.keep) await rm(envRoot, { recursive: true, force: true });
    else say(`kept the environment directories in ${relative(process.cwd(), envRoot)}`);
  }
  mark("teardown");
  if (control.interrupt.aborted) {
    // Interrupted after the hand-off: the bundles are safe in the inbox; the centre can take them later.
    const rel = (path: string) => relative(process.cwd(), path);
    throw new TiersError(ExitCode.Interrupted, "interrupted after the hand-off; nothing imported", {
      details: [
        `the bundles are in ${rel(inbox)}: tiers central import ${rel(inbox)} --keyring ${rel(keyringFile)}`,
      ],
    });
  }

  const central = await importAndReport(cdb, { inbox, keyringFile, cycleId, reportDir: runDir });
  mark("central");
  for (const e of central.events) {
    if (e.kind === "rejected")
      problems.set(e.file, `bundle refused by the centre (${e.reason}): ${e.detail}`);
    if (e.kind === "deferred") problems.set(e.file, `bundle not imported: ${(e.error as Error).message}`);
  }
  say("");
  if (central.report) say(renderSummary(central.report));
  for (const [env, why] of problems) say(`FAILED ${env}: ${why}`);
  for (const s of skipped) say(`skipped: ${s.what} (${s.reason})`);
  say("");
  const imported = central.events.filter((e) => e.kind === "imported").length;
  const secs = (ms: number | undefined) => `${((ms ?? 0) / 1000).toFixed(1)} s`;
  say(`${imported} bundle${imported === 1 ? "" : "s"} imported into ${options.db}`);
  say(
    `took ${formatDuration(Date.now() - t0)}: checks ${secs(marks.preflight)}, start ${secs(marks.start)}, ` +
      `cycles ${secs(marks.cycles)} (${formatDuration(plan.totals.phase_time_ms)} of phases plus calibration), ` +
      `retrieve ${secs(marks.retrieve)}, teardown ${secs(marks.teardown)}, import and reports ${secs(marks.central)}`,
  );
  for (const [format, path] of Object.entries(central.reports))
    say(`report (${format}): ${relative(process.cwd(), path)}`);
  const exitCode = verdictExitCode(central.report, problems.size, options.failOn);
  const verdict = central.report?.cycle.verdict ?? "no results";
  say(
    `verdict: ${verdict}${problems.size > 0 ? `, ${problems.size} environment problem${problems.size === 1 ? "" : "s"}` : ""} (exit ${exitCode}, --fail-on ${options.failOn})`,
  );
  return {
    exitCode,
    cycleId,
    runDir,
    views,
    report: central.report,
    reports: central.reports,
    skipped,
    problems,
    timings: {
      preflight: marks.preflight ?? 0,
      start: marks.start ?? 0,
      cycles: marks.cycles ?? 0,
      retrieve: marks.retrieve ?? 0,
      teardown: marks.teardown ?? 0,
      central: marks.central ?? 0,
      total: Date.now() - t0,
    },
  };
}
