import { randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { join, relative } from "node:path";
import { ExitCode, TiersError, type ExitCodeValue } from "../../tiers/errors.js";
import type { CyclePlan } from "../../tiers/plan/schema.js";
import { formatDuration } from "../../tiers/units.js";
import type { CycleReport } from "../../workloads/central/analysis/report-model.js";
import type { Centre } from "./centre.js";
import type { ReportFormat } from "../../workloads/central/reports/formats.js";
import { describeGate, describeLoad } from "../format/plan-text.js";
import { driveCycle } from "./drive.js";
import { retrieveBundles, writeRunKeyring, type Retrieved } from "./handoff.js";
import { ProgressDisplay, type EnvironmentView, type ProgressOutput } from "./progress-display.js";
import { renderSummary, verdictExitCode, type FailOn } from "./summary.js";
import type { ReachedEnvironment, RunTarget } from "./target.js";

export interface RunIo {
  readonly out: ProgressOutput;
  /** A terminal: the progress block is redrawn in place; otherwise timestamped lines. */
  readonly tty: boolean;
}

export interface RunControl {
  /** Ctrl-C / SIGTERM: stop waiting, tear down gracefully, exit 130. */
  readonly interrupt: AbortSignal;
  /** A second Ctrl-C: kill everything at once. */
  readonly force: AbortSignal;
}

/** A part of the plan that will run as `skipped` on this target, and why (a tool not installed). */
export interface SkippedPart {
  readonly what: string;
  readonly reason: string;
  /** The tests (or fault scenarios) it affects. */
  readonly affects: readonly string[];
}

export interface CycleRunOptions {
  readonly plan: CyclePlan;
  /** The command's name for its lines ("tiers local", "tiers run"). */
  readonly command: string;
  readonly cycleId: string;
  /** Where the run's directory goes (`<outDir>/<cycleId>`: reports, inbox, keyring, logs). */
  readonly outDir: string;
  readonly failOn: FailOn;
  /** What this target will record as skipped, announced before the start and in the summary. */
  readonly skipped?: readonly SkippedPart[];
  /** Time already spent checking before the runner started (options, database, tools), ms. */
  readonly preflightMs?: number;
}

export interface CycleRunResult {
  readonly exitCode: ExitCodeValue;
  readonly cycleId: string;
  readonly runDir: string;
  readonly views: readonly EnvironmentView[];
  readonly report: CycleReport | null;
  readonly reports: Readonly<Partial<Record<ReportFormat, string>>>;
  readonly skipped: readonly SkippedPart[];
  /** Why each environment that failed failed (died, bundle not retrieved, refused), and teardown's trouble. */
  readonly problems: ReadonlyMap<string, string>;
  /** Wall time of each part of the run, ms (the runner benchmark prints them). */
  readonly timings: RunTimings;
}

export interface RunTimings {
  /** Option checks, database migration, tool lookup. */
  readonly preflight: number;
  /** The target provisioned and every orchestrator reached, keys read. */
  readonly start: number;
  /** From the triggers until every environment's cycle ended (calibration included). */
  readonly cycles: number;
  /** Bundles exported and downloaded into the inbox. */
  readonly retrieve: number;
  /** Everything the target started stopped. */
  readonly teardown: number;
  /** Import, analysis and the four reports. */
  readonly central: number;
  readonly total: number;
}

/** A run's cycle id: sortable, readable, unique (`local-20261122T201955Z-3fa2`). */
export function newCycleId(prefix: string, now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  return `${prefix}-${stamp}-${randomBytes(2).toString("hex")}`;
}

/** Wall time per part of a run, each part measured from the end of the previous one. */
function partTimer(preflightMs: number) {
  const t0 = Date.now() - preflightMs;
  let last = Date.now();
  const marks: Partial<Record<keyof RunTimings, number>> = { preflight: preflightMs };
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

/**
 * Calls the target's teardown (once) and returns its failure as a TiersError rather than throwing
 * it, so the caller can still import what was retrieved; an unexpected error becomes exit 9 too,
 * since nobody can say what it left behind.
 */
async function teardownOnce(
  target: RunTarget,
  force: AbortSignal,
  say: (line: string) => void,
): Promise<TiersError | undefined> {
  try {
    await target.teardown(force, say);
    return undefined;
  } catch (error) {
    if (error instanceof TiersError && error.exitCode === ExitCode.TeardownFailed) return error;
    return new TiersError(
      ExitCode.TeardownFailed,
      `teardown of ${target.name} failed: ${(error as Error).message}; what it started may remain`,
      { cause: error },
    );
  }
}

/**
 * The runner, whatever the target: announces the plan, provisions the target's environments,
 * enrols their keys, triggers the cycle in every environment through its API with one cycle id,
 * shows live progress, retrieves the bundles into the central inbox, tears the target down (always:
 * success, failure, interrupt, a provision that failed halfway), then imports, analyses and writes
 * the reports on the open results database. Never calls process.exit.
 */
export async function runCycleOnTarget(
  target: RunTarget,
  options: CycleRunOptions,
  centre: Centre,
  io: RunIo,
  control: RunControl,
): Promise<CycleRunResult> {
  const { plan, cycleId } = options;
  const { t0, marks, mark } = partTimer(options.preflightMs ?? 0);
  const say = (line = "") => io.out.write(`${line}\n`);
  const skipped = options.skipped ?? [];
  const runDir = join(options.outDir, cycleId);
  const inbox = join(runDir, "inbox");
  const keyringFile = join(runDir, "keyring");
  await mkdir(runDir, { recursive: true });

  const phases = plan.environments[0]!.phases;
  say(
    `${options.command}: tier ${plan.tier.name}, ${plan.environments.length} environment${plan.environments.length === 1 ? "" : "s"} on ${target.name}, ` +
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
    say(`skipped on this target: ${s.what}: ${s.reason}; affects ${s.affects.join(", ")}`);

  let environments: readonly ReachedEnvironment[] = [];
  let views: EnvironmentView[] = [];
  const problems = new Map<string, string>();
  let display: ProgressDisplay | undefined;
  let retrievedBundles: readonly Retrieved[] = [];
  let stopped: { error: unknown } | undefined;
  try {
    environments = await target.provision({ plan, cycleId, runDir, signal: control.interrupt, say });
    await writeRunKeyring(
      keyringFile,
      cycleId,
      environments.map((e) => e.keyringLine),
    );
    for (const e of environments) say(e.description);
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
    retrievedBundles = retrieved.retrieved;
    for (const [env, why] of retrieved.problems) problems.set(env, why);
    mark("retrieve");
  } catch (error) {
    stopped = { error };
  }
  // Teardown always, exactly once. One that failed outranks whatever stopped the run: resources may
  // remain (exit 9).
  const teardownError = await teardownOnce(target, control.force, say);
  if (teardownError && (stopped || control.interrupt.aborted)) throw teardownError;
  if (stopped) throw stopped.error;
  mark("teardown");
  if (teardownError) problems.set("teardown", teardownError.message);
  if (control.interrupt.aborted) {
    // Interrupted after the hand-off: the bundles are safe in the inbox; the centre can take them later.
    const rel = (path: string) => relative(process.cwd(), path);
    throw new TiersError(ExitCode.Interrupted, "interrupted after the hand-off; nothing imported", {
      details: [
        `the bundles are in ${rel(inbox)}: tiers central import ${rel(inbox)} --keyring ${rel(keyringFile)}`,
      ],
    });
  }

  const monitoring = target.monitoring?.();
  const central = await centre.take(
    {
      inbox,
      keyringFile,
      cycleId,
      reportDir: runDir,
      retrieved: retrievedBundles,
      ...(monitoring ? { monitoring } : {}),
    },
    say,
    control.interrupt,
  );
  mark("central");
  for (const e of central.events) {
    if (e.kind === "rejected")
      problems.set(e.file, `bundle refused by the centre (${e.reason}): ${e.detail}`);
    if (e.kind === "deferred") problems.set(e.file, `bundle not imported: ${e.error.message}`);
  }
  say("");
  if (central.report) say(renderSummary(central.report));
  if (monitoring) {
    say(
      `alerts fired (${monitoring.source}): ${monitoring.alerts.length === 0 ? "none" : monitoring.alerts.length}`,
    );
    for (const a of monitoring.alerts)
      say(
        `  ${a.alert} (${a.severity}) in ${a.environment}: firing ${a.first_firing_at} → ${a.last_firing_at}; action ${a.action}`,
      );
    const q = monitoring.dashboard_queries;
    if (q) {
      say(`dashboard panel queries with data: ${q.total - q.empty.length} of ${q.total}`);
      for (const e of q.empty) say(`  no data: ${e}`);
    }
  }
  for (const [env, why] of problems) say(`FAILED ${env}: ${why}`);
  for (const s of skipped) say(`skipped: ${s.what} (${s.reason})`);
  say("");
  const imported = central.events.filter((e) => e.kind === "imported").length;
  const secs = (ms: number | undefined) => `${((ms ?? 0) / 1000).toFixed(1)} s`;
  say(`${imported} bundle${imported === 1 ? "" : "s"} imported into ${centre.description}`);
  say(
    `took ${formatDuration(Date.now() - t0)}: checks ${secs(marks.preflight)}, start ${secs(marks.start)}, ` +
      `cycles ${secs(marks.cycles)} (${formatDuration(plan.totals.phase_time_ms)} of phases plus calibration), ` +
      `retrieve ${secs(marks.retrieve)}, teardown ${secs(marks.teardown)}, import and reports ${secs(marks.central)}`,
  );
  for (const [format, path] of Object.entries(central.reports))
    say(`report (${format}): ${relative(process.cwd(), path)}`);
  const exitCode = teardownError
    ? ExitCode.TeardownFailed
    : verdictExitCode(central.report, problems.size, options.failOn);
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
