import {
  newCycleId,
  runCycleOnTarget,
  type CycleRunResult,
  type RunControl,
  type RunIo,
} from "../cycle/run-cycle.js";
import { openRunDatabase } from "../cycle/handoff.js";
import type { LocalOptions } from "./options.js";
import { missingParts, preflight } from "./preflight.js";
import { LocalProcessTarget } from "./process-target.js";

export type LocalRunIo = RunIo;
export type LocalRunControl = RunControl;
export type LocalRunResult = CycleRunResult;

/**
 * `tiers local`: the whole local target. Checks everything it can first (options, output
 * directory, ports, the results database, which tools are missing), then runs the cycle on the
 * local process target through the runner (`runners/cycle/run-cycle.ts`): environments as
 * directories and process groups, trigger over the API, live progress, bundles into the central
 * inbox, teardown always, import, analysis and reports. Never calls process.exit.
 */
export async function runLocal(
  options: LocalOptions,
  io: LocalRunIo,
  control: LocalRunControl,
): Promise<LocalRunResult> {
  const t0 = Date.now();
  await preflight(options);
  // Opened (and migrated) before anything starts, so a wrong database fails now, not after the run.
  const cdb = await openRunDatabase(options.db);
  try {
    const skipped = await missingParts(options.plan);
    const target = new LocalProcessTarget({
      regionLatency: options.regionLatency,
      keep: options.keep,
      ...(options.portBase !== undefined ? { portBase: options.portBase } : {}),
      loadWorkers: options.loadWorkers,
    });
    return await runCycleOnTarget(
      target,
      {
        plan: options.plan,
        command: "tiers local",
        cycleId: newCycleId("local"),
        outDir: options.outDir,
        failOn: options.failOn,
        dbLocation: options.db,
        skipped,
        preflightMs: Date.now() - t0,
      },
      cdb,
      io,
      control,
    );
  } finally {
    await cdb.close();
  }
}
