import type { Command } from "commander";
import { ExitCode } from "../../../tiers/errors.js";
import { Environment } from "../environment.js";
import { configFrom, cycleIdFlag, emitJson, readPlan, withConfigFlags, type ConfigFlags } from "./common.js";

/**
 * `orchestrator run-cycle PLAN`: runs one cycle in the foreground (no API) and prints one JSON line
 * per phase. `--resume [CYCLE]` continues a cycle that was killed or interrupted. Exit 0 when every
 * gate passed, 4 when a gate aborted the cycle, 6 when it failed, 130 when interrupted.
 */
export function registerRunCycle(
  program: Command,
  run: (body: () => Promise<number | void>) => Promise<void>,
): void {
  withConfigFlags(program.command("run-cycle").description("run one cycle of a plan in the foreground"))
    .argument("<plan>", "the CyclePlan JSON file (tiers plan --json)")
    .option("--resume [cycle]", "continue an unfinished cycle (the latest one without an id)")
    .option("--cycle-id <id>", "the new cycle's id (default: time and a random suffix)")
    .action((planFile: string, flags: ConfigFlags & { resume?: string | boolean; cycleId?: string }) =>
      run(async () => {
        const chosen = cycleIdFlag(flags.cycleId);
        const config = configFrom(flags);
        const { plan, environment } = await readPlan(planFile, config.environment);
        const env = await Environment.open(config);
        const stop = (signal: string): void => {
          void env.close(`run-cycle received ${signal}`);
        };
        process.once("SIGTERM", () => stop("SIGTERM"));
        process.once("SIGINT", () => stop("SIGINT"));
        try {
          let resume: string | undefined;
          if (flags.resume === true) resume = env.store.unfinishedCycles().at(-1)?.cycle_id;
          else if (typeof flags.resume === "string") resume = flags.resume;
          if (flags.resume !== undefined && resume === undefined) {
            emitJson({ event: "nothing_to_resume" });
            return ExitCode.Ok;
          }
          const running = env.start(plan, environment, resume, resume === undefined ? chosen : undefined);
          emitJson({ event: "cycle.started", cycle_id: running.cycleId, resumed: resume !== undefined });
          const end = await running.done;
          for (const p of end.phases)
            emitJson({ event: "phase", name: p.name, status: p.status, gate: p.gate.verdict });
          emitJson({
            event: "cycle.ended",
            cycle_id: end.cycleId,
            status: end.status,
            verdict: end.verdict,
            reason: end.reason ?? null,
          });
          return end.status === "completed"
            ? ExitCode.Ok
            : end.status === "aborted"
              ? ExitCode.GateFailed
              : end.status === "interrupted"
                ? ExitCode.Interrupted
                : ExitCode.Infrastructure;
        } finally {
          await env.close();
        }
      }),
    );
}
