import { ExitCode, TiersError } from "../../tiers/errors.js";
import type { CentralDb } from "../../workloads/central/db/connect.js";
import { openResultsDb } from "../../workloads/central/db/open.js";
import {
  newCycleId,
  runCycleOnTarget,
  type CycleRunResult,
  type RunControl,
  type RunIo,
} from "../cycle/run-cycle.js";
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
  let cdb: CentralDb;
  try {
    // Opened (and migrated) before anything starts, so a wrong database fails now, not after the run.
    cdb = await openResultsDb(options.db, true);
  } catch (error) {
    if (error instanceof TiersError) throw error;
    throw new TiersError(
      ExitCode.Infrastructure,
      `the results database ${options.db} cannot be opened: ${(error as Error).message}; nothing was started`,
    );
  }
  try {
    const skipped = await missingParts(options.plan);
    const target = new LocalProcessTarget({
      regionLatency: options.regionLatency,
      keep: options.keep,
      ...(options.portBase !== undefined ? { portBase: options.portBase } : {}),
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
