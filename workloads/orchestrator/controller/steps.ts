import { compileContract } from "../../../tiers/contracts/compile.js";
import type { CyclePlan, PlanEnvironment, PlanPhase, PlanTest } from "../../../tiers/plan/schema.js";
import { notRunSummary, type PhaseSummary } from "../../shared/cycle.js";
import type { Result } from "../../shared/result.js";
import { CPU_SERIES, RSS_SERIES } from "../sampler/process-sampler.js";
import type { EnvStore } from "../storage/env-store.js";
import { abortReason } from "./gate.js";
import { loadSegments, loadTest, type RateBasis } from "./load-plan.js";
import { summarizePhase } from "./observation.js";
import { phaseFaultFigures, worstRecovery } from "./phase-faults.js";

/**
 * The cycle as separate steps, for a workflow engine (the cluster target's Argo WorkflowTemplate):
 * `start-cycle`, then per phase `run-test` for each test and load segment and, for a phase with
 * faults, `run-faults` (all in parallel), then `gate`; then `finish-cycle`. Each step reads and
 * writes the environment's store, so a retried step finds what a previous try committed (a test
 * committed once is not run again, nor a fault schedule run to its end).
 */

/** Every test a phase runs in step mode: its load segments (`<phase>/load…`) and its plan tests. */
export function phaseSteps(plan: CyclePlan, phase: PlanPhase, calibration: RateBasis | null): PlanTest[] {
  const rules = compileContract("HttpLoadContract", plan.contracts.HttpLoadContract!).rules;
  const all = loadSegments(phase, calibration);
  const loads = all.flatMap((s, i) => (s.rps > 0 ? [loadTest(phase, s, i, all.length, rules)] : []));
  return [...loads, ...phase.tests];
}

/** Finds a test of the environment's plan (or a load segment) by id, e.g. `baseline/load`. */
export function findStepTest(
  plan: CyclePlan,
  environment: PlanEnvironment,
  testId: string,
  calibration: RateBasis | null,
): { phase: PlanPhase; test: PlanTest } | undefined {
  for (const phase of environment.phases) {
    const test = phaseSteps(plan, phase, calibration).find((t) => t.id === testId);
    if (test) return { phase, test };
  }
  return undefined;
}

/** Whether a test id is one of the phase's load segments (`<phase>/load`, `<phase>/load@n`). */
export function isLoadTestId(testId: string, phase: string): boolean {
  return testId === `${phase}/load` || testId.startsWith(`${phase}/load@`);
}

function isLoad(r: Result, phase: string): boolean {
  return isLoadTestId(r.test_id, phase);
}

/**
 * The `gate` step: the phase's summary from what its steps committed (load and test Results,
 * whatever samples a sampler stored, and the recovery figures of the faults its `run-faults` step
 * recorded as events), its gate evaluated, the summary committed.
 */
export function gateStep(
  store: EnvStore,
  cycleId: string,
  environment: PlanEnvironment,
  phase: PlanPhase,
  sutDown: boolean,
): PhaseSummary {
  const results = [...store.results(cycleId)].filter((r) => r.phase === phase.name);
  const loads = results.filter((r) => isLoad(r, phase.name));
  const tests = results.filter((r) => !isLoad(r, phase.name));
  const row = store.phases(cycleId).find((p) => p.name === phase.name);
  const attempt = row?.attempt ?? 1;
  const times = results.flatMap((r) => [Date.parse(r.timings.started_at), Date.parse(r.timings.ended_at)]);
  const startedAt = row?.started_at
    ? new Date(row.started_at)
    : new Date(times.length ? Math.min(...times) : Date.now());
  const endedAt = new Date(times.length ? Math.max(...times) : Date.now());
  const faults = phaseFaultFigures(store.events(cycleId), phase.name);
  const target = loads.map((r) => r.parameters.rps).filter((x): x is number => typeof x === "number");
  const { summary } = summarizePhase(
    {
      phase,
      status: "completed",
      startedAt,
      endedAt,
      loadResults: loads,
      testResults: tests,
      cpuPct: store.seriesValues(cycleId, phase.name, attempt, CPU_SERIES),
      rssBytes: store.seriesValues(cycleId, phase.name, attempt, RSS_SERIES),
      sutDown,
      recoveredAfterMs: worstRecovery(faults.recoveries),
      faultRecoveries: faults.faultRecoveries,
      targetRps: target.length ? target.reduce((a, b) => a + b, 0) / target.length : null,
    },
    environment,
  );
  store.finishPhase(cycleId, summary);
  return summary;
}

/**
 * The `finish-cycle` step: the cycle's verdict from its phases' gates. Given the environment's plan,
 * the phases no step ran (a gate aborted before them) are recorded as not run, as run-cycle does.
 */
export function finishStep(
  store: EnvStore,
  cycleId: string,
  environment?: PlanEnvironment,
): { status: "completed" | "aborted"; verdict: "passed" | "failed"; reason?: string } {
  if (environment) {
    const recorded = new Set(store.phases(cycleId).map((p) => p.name));
    for (const phase of environment.phases)
      if (!recorded.has(phase.name)) store.finishPhase(cycleId, notRunSummary(phase));
  }
  const aborted = store.phases(cycleId).find((p) => p.summary?.gate.verdict === "aborted");
  const end = aborted
    ? {
        status: "aborted" as const,
        verdict: "failed" as const,
        reason: abortReason(aborted.name, aborted.summary!.gate)!,
      }
    : { status: "completed" as const, verdict: "passed" as const };
  store.finishCycle(cycleId, { ...end, ended_at: new Date().toISOString() });
  return end;
}
