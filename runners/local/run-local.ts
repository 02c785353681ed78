import {
  newCycleId,
  runCycleOnTarget,
  type CycleRunResult,
  type RunControl,
  type RunIo,
} from "../cycle/run-cycle.js";
import { databaseCentre } from "../cycle/centre.js";
import { openRunDatabase } from "../cycle/handoff.js";
import { loadCatalog } from "../../tiers/catalog.js";
import type { LocalOptions } from "./options.js";
import { missingParts, preflight } from "./preflight.js";
import { LocalProcessTarget } from "./process-target.js";
import type { RunTarget } from "../cycle/target.js";

export type LocalRunIo = RunIo;
export type LocalRunControl = RunControl;
export type LocalRunResult = CycleRunResult;

/** The containers runtime: podman must run (exit 6 otherwise); the target is loaded only then. */
async function containerTarget(options: LocalOptions): Promise<RunTarget> {
  const { resolveEngine } = await import("../images/engine.js");
  await resolveEngine("podman");
  const { LocalContainerTarget } = await import("./containers/container-target.js");
  return new LocalContainerTarget({ keep: options.keep });
}

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
  /** The containers runtime's target, when the caller made it (tests look at its pods). */
  target?: RunTarget,
): Promise<LocalRunResult> {
  const t0 = Date.now();
  await preflight(options);
  // Opened (and migrated) before anything starts, so a wrong database fails now, not after the run.
  const cdb = await openRunDatabase(options.db);
  try {
    // In containers the tools are the image's (tiers images check), not this machine's.
    const skipped = options.runtime === "containers" ? [] : await missingParts(options.plan);
    const chosen: RunTarget =
      options.runtime === "containers"
        ? (target ?? (await containerTarget(options)))
        : new LocalProcessTarget({
            regionLatency: options.regionLatency,
            keep: options.keep,
            ...(options.portBase !== undefined ? { portBase: options.portBase } : {}),
            ...(options.monitoring ? { monitoring: loadCatalog().monitoring } : {}),
            loadWorkers: options.loadWorkers,
          });
    return await runCycleOnTarget(
      chosen,
      {
        plan: options.plan,
        command: "tiers local",
        cycleId: newCycleId("local"),
        outDir: options.outDir,
        failOn: options.failOn,
        skipped,
        preflightMs: Date.now() - t0,
      },
      databaseCentre(cdb, options.db),
      io,
      control,
    );
  } finally {
    await cdb.close();
  }
}
