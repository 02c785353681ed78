import type { Command } from "commander";
import { randomUUID } from "node:crypto";
import { ConfigError } from "../../../tiers/config/issues.js";
import { writeFileSync } from "node:fs";
import { ExitCode, TiersError } from "../../../tiers/errors.js";
import type { CycleEvent, Sample } from "../../shared/cycle.js";
import { Result } from "../../shared/result.js";
import { sutSampler } from "../sampler/sut-sampler.js";
import { runTest } from "../adapters/run-test.js";
import { calibrateEnvironment } from "../controller/calibration.js";
import { isHealthy } from "../controller/runtime.js";
import {
  FAULTS_ENDED,
  FAULTS_STARTED,
  phaseFaultFigures,
  runPhaseFaults,
  sweepPhaseFaults,
} from "../controller/phase-faults.js";
import { findStepTest, finishStep, gateStep, isLoadTestId } from "../controller/steps.js";
import { Environment } from "../environment.js";
import { readJsonFile } from "../plan-input.js";
import { configFrom, cycleIdFlag, emitJson, readPlan, withConfigFlags, type ConfigFlags } from "./common.js";

type Run = (body: () => Promise<number | void>) => Promise<void>;

/** A step's verdict as a workflow output parameter: the bare word, no newline. */
function writeVerdict(file: string, verdict: string): void {
  try {
    writeFileSync(file, verdict);
  } catch (error) {
    throw new TiersError(
      ExitCode.Infrastructure,
      `--verdict-out ${file}: cannot write the verdict (${(error as Error).message})`,
    );
  }
}

/** The plan environment's phase `--phase` names, or a config error listing the phases there are. */
function phaseOf<E extends { readonly phases: readonly { readonly name: string }[] }>(
  environment: E,
  name: string,
): E["phases"][number] {
  const phase = environment.phases.find((p) => p.name === name);
  if (!phase)
    throw new ConfigError([
      {
        file: "command line",
        path: "--phase",
        message: `the plan has no phase ${name}`,
        expected: environment.phases.map((p) => p.name).join(", "),
      },
    ]);
  return phase;
}

/**
 * SIGTERM / SIGINT during a step's work (Argo stopping the workflow, a pod deleted): aborts
 * `signal`, so the load it generates stops — its Job deleted, its workers' reports in — instead of
 * the process dying with the load still running. `interrupted()` says whether it came.
 */
function stepInterrupt(step: string): {
  signal: AbortSignal;
  interrupted(): boolean;
  /** Aborts the step's work for another reason (a failure that must end the rest). */
  abort(reason: unknown): void;
  release(): void;
} {
  const stop = new AbortController();
  const onTerm = (): void => stop.abort(new Error(`${step} received SIGTERM`));
  const onInt = (): void => stop.abort(new Error(`${step} received SIGINT`));
  process.once("SIGTERM", onTerm);
  process.once("SIGINT", onInt);
  return {
    signal: stop.signal,
    interrupted: () => stop.signal.aborted,
    abort: (reason) => stop.abort(reason),
    release: () => {
      process.off("SIGTERM", onTerm);
      process.off("SIGINT", onInt);
    },
  };
}

/**
 * The step commands a workflow engine calls: start-cycle, run-test, run-faults, report-result, gate,
 * finish-cycle.
 */
export function registerStepCommands(program: Command, run: Run): void {
  withConfigFlags(
    program.command("start-cycle").description("step: create a cycle (and calibrate in relative mode)"),
  )
    .argument("<plan>", "the CyclePlan JSON file")
    .option("--cycle-id <id>", "the cycle's id (default: a new one)")
    .action((planFile: string, flags: ConfigFlags & { cycleId?: string }) =>
      run(async () => {
        const chosen = cycleIdFlag(flags.cycleId);
        const config = configFrom(flags);
        const { plan, environment } = await readPlan(planFile, config.environment);
        const env = await Environment.open(config);
        try {
          const cycleId =
            chosen ??
            `${new Date().toISOString().replace(/[-:]/g, "").slice(0, 15)}-${randomUUID().slice(0, 8)}`;
          if (!env.store.getCycle(cycleId))
            env.store.createCycle(cycleId, environment.id, plan, new Date().toISOString());
          let saturation = env.store.getCycle(cycleId)!.calibration?.saturation_rps ?? null;
          if (plan.options.load_mode === "relative" && saturation === null) {
            const interrupt = stepInterrupt("start-cycle");
            let c;
            try {
              c = await calibrateEnvironment(env.runtime, plan, environment, { signal: interrupt.signal });
            } finally {
              interrupt.release();
            }
            // An interrupted calibration is not the SUT's: nothing is recorded, a retry calibrates.
            if (interrupt.interrupted()) {
              emitJson({ event: "interrupted", cycle_id: cycleId, step: "start-cycle" });
              return ExitCode.Interrupted;
            }
            env.store.setCalibration(cycleId, c);
            saturation = c.saturation_rps;
          }
          emitJson({ event: "cycle.started", cycle_id: cycleId, saturation_rps: saturation });
        } finally {
          await env.close();
        }
      }),
    );

  withConfigFlags(
    program
      .command("run-test")
      .description("step: run one test (or load segment) of a phase and commit its Result"),
  )
    .argument("<plan>", "the CyclePlan JSON file")
    .requiredOption("--cycle <id>", "the cycle")
    .requiredOption("--test <id>", "the test id, e.g. baseline/iperf_loopback or baseline/load")
    .action((planFile: string, flags: ConfigFlags & { cycle: string; test: string }) =>
      run(async () => {
        const config = configFrom(flags);
        const { plan, environment } = await readPlan(planFile, config.environment);
        const env = await Environment.open(config);
        try {
          const cycle = env.store.getCycle(flags.cycle);
          if (!cycle)
            throw new ConfigError([
              { file: "command line", path: "--cycle", message: `no cycle ${flags.cycle}` },
            ]);
          const found = findStepTest(plan, environment, flags.test, cycle.calibration ?? null);
          if (!found)
            throw new ConfigError([
              { file: "command line", path: "--test", message: `no test ${flags.test} in the plan` },
            ]);
          if (env.store.committedTestIds(flags.cycle).has(flags.test)) {
            emitJson({ event: "already_committed", test_id: flags.test });
            return;
          }
          // A load segment samples the SUT while it runs, as run-cycle samples the phase: the gate
          // step judges the phase's CPU and memory bands from these.
          const samples: Sample[] = [];
          const sampler = isLoadTestId(flags.test, found.phase.name)
            ? sutSampler(
                env.runtime,
                () => found.phase.name,
                (s) => samples.push(s),
              )
            : undefined;
          sampler?.start();
          const interrupt = stepInterrupt("run-test");
          const result = await runTest(found.test, plan.contracts, {
            signal: interrupt.signal,
            cycleId: flags.cycle,
            environment: environment.id,
            phase: found.phase.name,
            rawDir: env.runtime.rawDir,
            scratchDir: env.runtime.scratchDir,
            sutUrl: env.runtime.targetUrl,
            ...(env.runtime.iperf3Server ? { iperf3Server: env.runtime.iperf3Server } : {}),
            tools: environment.tools,
            ...(env.runtime.load ? { load: env.runtime.load } : {}),
          }).finally(() => interrupt.release());
          await sampler?.stop();
          // Stopped part-way, the result is not the test's: nothing is committed, a retry runs it.
          if (interrupt.interrupted()) {
            emitJson({ event: "interrupted", test_id: flags.test, step: "run-test" });
            return ExitCode.Interrupted;
          }
          const attempt =
            env.store.phases(flags.cycle).find((p) => p.name === found.phase.name)?.attempt ?? 1;
          env.store.insertSamples(flags.cycle, attempt, samples);
          env.store.commitResult(result);
          emitJson({
            event: "result",
            test_id: result.test_id,
            status: result.status,
            reason: result.reason ?? null,
          });
        } finally {
          await env.close();
        }
      }),
    );

  withConfigFlags(
    program
      .command("run-faults")
      .description("step: run a phase's fault schedule beside its load, each fault undone, and record it"),
  )
    .argument("<plan>", "the CyclePlan JSON file")
    .requiredOption("--cycle <id>", "the cycle")
    .requiredOption("--phase <name>", "the phase whose faults to run (the chaos phase)")
    .action((planFile: string, flags: ConfigFlags & { cycle: string; phase: string }) =>
      run(async () => {
        const config = configFrom(flags);
        const { environment } = await readPlan(planFile, config.environment);
        const phase = phaseOf(environment, flags.phase);
        // Before the environment (and its Kubernetes client) opens: the cycle, and whether a
        // previous try already ran the schedule to its end (a retried step does not run it again).
        const { EnvStore } = await import("../storage/env-store.js");
        const store = EnvStore.open(config.paths.db);
        let attempt: number;
        try {
          if (!store.getCycle(flags.cycle))
            throw new ConfigError([
              { file: "command line", path: "--cycle", message: `no cycle ${flags.cycle}` },
            ]);
          const events = [...store.events(flags.cycle)].filter((e) => e.phase === phase.name);
          if (phaseFaultFigures(events, phase.name).ended) {
            emitJson({ event: "already_done", phase: phase.name });
            return ExitCode.Ok;
          }
          attempt = events.filter((e) => e.kind === FAULTS_STARTED).length + 1;
        } finally {
          store.close();
        }
        if (phase.faults.length === 0) {
          emitJson({ event: "faults", phase: phase.name, faults: 0 });
          return ExitCode.Ok;
        }
        // A step's own local SUT is a process of this step alone: no other step loads it, so a
        // fault injected there would be measured by nothing. The workflow's SUT is the environment's.
        if (config.sut.mode !== "external")
          throw new ConfigError([
            {
              file: "configuration",
              path: "sut",
              message:
                "run-faults injects into the environment's SUT, which every step shares: give it as an external SUT (TIERS_SUT_URL)",
              expected: "sut: {mode: external, url}",
            },
          ]);
        const env = await Environment.open(config);
        const interrupt = stepInterrupt("run-faults");
        const emit = (e: CycleEvent): void => env.store.appendEvent(flags.cycle, e);
        const event = (kind: string, detail: Record<string, unknown>): void =>
          emit({ ts_ms: Date.now(), phase: phase.name, kind, detail });
        try {
          const startedAtMs = Date.now();
          event(FAULTS_STARTED, { attempt, faults: phase.faults.length });
          const faults = runPhaseFaults({
            cycleId: flags.cycle,
            phase,
            runtime: env.runtime,
            startedAtMs,
            signal: interrupt.signal,
            emit,
          });
          try {
            await faults.done;
          } catch (error) {
            // An undo failed: end the others' windows now, let them undo, then fail the step.
            interrupt.abort(error);
            await faults.done.catch(() => undefined);
            throw error;
          } finally {
            // Every fault undone or not, nothing of the cycle's stays on the cluster.
            await sweepPhaseFaults(env.runtime, flags.cycle, event);
          }
          const recorded = [...env.store.events(flags.cycle)].filter(
            (e) => e.phase === phase.name && e.kind.startsWith("fault."),
          );
          const count = (kind: string): number =>
            recorded.filter((e) => e.kind === kind && e.ts_ms >= startedAtMs).length;
          const interrupted = interrupt.interrupted();
          if (!interrupted) event(FAULTS_ENDED, { attempt });
          emitJson({
            event: "faults",
            phase: phase.name,
            faults: phase.faults.length,
            applied: count("fault.applied"),
            skipped: count("fault.skipped"),
            apply_failed: count("fault.apply_failed"),
            undone: count("fault.undone"),
            interrupted,
          });
          return interrupted ? ExitCode.Interrupted : ExitCode.Ok;
        } finally {
          interrupt.release();
          await env.close();
        }
      }),
    );

  withConfigFlags(program.command("report-result").description("step: commit a Result produced elsewhere"))
    .argument("<file>", "a Result JSON file")
    .action((file: string, flags: ConfigFlags) =>
      run(async () => {
        const config = configFrom(flags);
        const parsed = Result.safeParse(readJsonFile(file, "a Result (JSON)"));
        if (!parsed.success) {
          throw new ConfigError(
            parsed.error.issues.map((i) => ({
              file,
              path: i.path.join(".") || "(root)",
              message: i.message,
            })),
          );
        }
        const { EnvStore } = await import("../storage/env-store.js");
        const store = EnvStore.open(config.paths.db);
        try {
          if (parsed.data.environment !== config.environment) {
            throw new ConfigError([
              {
                file,
                path: "environment",
                message: `the Result is of environment ${parsed.data.environment}, not ${config.environment}`,
              },
            ]);
          }
          if (!store.getCycle(parsed.data.cycle_id))
            throw new ConfigError([{ file, path: "cycle_id", message: `no cycle ${parsed.data.cycle_id}` }]);
          const inserted = store.commitResult(parsed.data);
          emitJson({ event: inserted ? "committed" : "already_committed", test_id: parsed.data.test_id });
        } finally {
          store.close();
        }
      }),
    );

  withConfigFlags(
    program.command("gate").description("step: evaluate a phase's gate from what its steps committed"),
  )
    .argument("<plan>", "the CyclePlan JSON file")
    .requiredOption("--cycle <id>", "the cycle")
    .requiredOption("--phase <name>", "the phase")
    .option(
      "--verdict-out <file>",
      "write the verdict to this file (a workflow output) and exit 0 once a verdict is reached",
    )
    .action((planFile: string, flags: ConfigFlags & { cycle: string; phase: string; verdictOut?: string }) =>
      run(async () => {
        const config = configFrom(flags);
        const { environment } = await readPlan(planFile, config.environment);
        const phase = phaseOf(environment, flags.phase);
        const { EnvStore } = await import("../storage/env-store.js");
        const store = EnvStore.open(config.paths.db);
        try {
          if (!store.getCycle(flags.cycle))
            throw new ConfigError([
              { file: "command line", path: "--cycle", message: `no cycle ${flags.cycle}` },
            ]);
          const healthUrl =
            config.sut.mode === "external" ? new URL("/healthz", config.sut.url).toString() : undefined;
          const sutDown = healthUrl ? !(await isHealthy(healthUrl)) : false;
          const summary = gateStep(store, flags.cycle, environment, phase, sutDown);
          emitJson({
            event: "gate",
            phase: phase.name,
            verdict: summary.gate.verdict,
            rules: summary.gate.rules,
          });
          if (flags.verdictOut !== undefined) {
            writeVerdict(flags.verdictOut, summary.gate.verdict);
            return ExitCode.Ok;
          }
          return summary.gate.verdict === "aborted" ? ExitCode.GateFailed : ExitCode.Ok;
        } finally {
          store.close();
        }
      }),
    );

  withConfigFlags(program.command("finish-cycle").description("step: record the cycle's verdict"))
    .requiredOption("--cycle <id>", "the cycle")
    .option("--plan <file>", "the CyclePlan JSON file: record the phases no step ran as not run")
    .option(
      "--verdict-out <file>",
      "write the verdict to this file (a workflow output) and exit 0 once a verdict is reached",
    )
    .action((flags: ConfigFlags & { cycle: string; plan?: string; verdictOut?: string }) =>
      run(async () => {
        const config = configFrom(flags);
        const environment =
          flags.plan === undefined ? undefined : (await readPlan(flags.plan, config.environment)).environment;
        const { EnvStore } = await import("../storage/env-store.js");
        const store = EnvStore.open(config.paths.db);
        try {
          if (!store.getCycle(flags.cycle))
            throw new ConfigError([
              { file: "command line", path: "--cycle", message: `no cycle ${flags.cycle}` },
            ]);
          const end = finishStep(store, flags.cycle, environment);
          emitJson({ event: "cycle.ended", cycle_id: flags.cycle, ...end });
          if (flags.verdictOut !== undefined) {
            writeVerdict(flags.verdictOut, end.verdict);
            return ExitCode.Ok;
          }
          return end.status === "aborted" ? ExitCode.GateFailed : ExitCode.Ok;
        } finally {
          store.close();
        }
      }),
    );
}
