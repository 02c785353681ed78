/** `tiers central import`: loaded only when the command runs (see central.ts). */
import { ConfigError } from "../../../tiers/config/issues.js";
import { ExitCode, TiersError } from "../../../tiers/errors.js";
import { escapeControls } from "../../../tiers/safe-text.js";
import { formatDuration } from "../../../tiers/units.js";
import { BundleError } from "../../../workloads/bundle/errors.js";
import { loadKeyring } from "../../../workloads/bundle/keyring.js";
import { openResultsDb } from "../../../workloads/central/db/open.js";
import { resolveDbFlag } from "../../cluster/central-stack.js";
import { importBundle, type ImportOutcome } from "../../../workloads/central/import/import-bundle.js";
import { expandBundlePaths, watchInbox, type InboxEvent } from "../../../workloads/central/import/inbox.js";
import { resolveKeyringLocation } from "../../../workloads/central/db/location.js";
import type { ImportFlags } from "./central.js";

function describeOutcome(o: ImportOutcome): string {
  const what = `bundle ${o.bundleId.slice(0, 8)} cycle ${o.cycleId} ${o.environment}`;
  return o.status === "imported"
    ? `imported  ${o.file}  ${what}: ${o.counts.results} results, ${o.counts.samples} samples, ${o.counts.events} events (${formatDuration(o.ms)})`
    : `unchanged ${o.file}  ${what}: already imported, nothing written`;
}

export function describeInboxEvent(e: InboxEvent): string {
  switch (e.kind) {
    case "imported":
      return `${describeOutcome(e.outcome)} → ${e.movedTo}`;
    case "rejected":
      return `refused   ${e.file}  (${e.reason}) ${e.detail} → ${e.movedTo}`;
    case "deferred":
      return `deferred  ${e.file}  ${e.error instanceof Error ? e.error.message : String(e.error)} (kept in the inbox, retried)`;
  }
}

/** `--poll-ms`: a whole number of milliseconds from 50 to one hour, checked before anything is opened. */
export function pollMsFrom(flag: string | undefined): number | undefined {
  if (flag === undefined) return undefined;
  const n = Number(flag);
  if (!/^\d+$/.test(flag.trim()) || n < 50 || n > 3_600_000)
    throw new ConfigError([
      {
        file: "command line",
        path: "--poll-ms",
        message: "not a poll interval",
        got: JSON.stringify(flag),
        expected: "an integer number of milliseconds from 50 to 3600000",
      },
    ]);
  return n;
}

export async function runImport(paths: string[], flags: ImportFlags): Promise<number> {
  if (paths.length === 0 && flags.watch === undefined)
    throw new TiersError(ExitCode.Usage, "give bundle files or directories to import, or --watch DIR");
  const pollMs = pollMsFrom(flags.pollMs);
  if (!flags.watch?.startsWith("s3://") && (flags.queue !== undefined || flags.reports !== undefined))
    throw new TiersError(
      ExitCode.Usage,
      `${flags.queue !== undefined ? "--queue" : "--reports"} applies only to an S3 inbox (--watch s3://bucket/prefix)`,
    );
  const keyringLocation = resolveKeyringLocation(flags.keyring);
  const keyring = keyringLocation.startsWith("s3://")
    ? await (await import("./central-import-s3.js")).loadKeyringFromS3(keyringLocation)
    : await loadKeyring(keyringLocation);
  let files: string[];
  try {
    files = await expandBundlePaths(paths);
  } catch (error) {
    throw new TiersError(
      ExitCode.InvalidConfig,
      `cannot read ${(error as NodeJS.ErrnoException).path ?? "a path"}: ${(error as Error).message}`,
    );
  }
  // SIGINT/SIGTERM stop the import in progress: its transaction rolls back, its extraction is
  // removed, and the command exits 130 (README "Exit codes").
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  const say = (line: string) => process.stdout.write(`${escapeControls(line, { lines: false })}\n`);
  let refused = 0;
  try {
    const cdb = await openResultsDb(await resolveDbFlag(flags.db), true);
    try {
      for (const file of files) {
        if (controller.signal.aborted) break;
        try {
          say(describeOutcome(await importBundle(cdb, file, { keyring, signal: controller.signal })));
        } catch (error) {
          if (!(error instanceof BundleError)) throw error;
          refused++;
          say(`refused   ${file}  (${error.reason}) ${error.detail}`);
        }
      }
      if (flags.watch?.startsWith("s3://") && !controller.signal.aborted) {
        await (
          await import("./central-import-s3.js")
        ).watchS3(cdb, flags, {
          keyring,
          signal: controller.signal,
          say,
          describe: describeInboxEvent,
          ...(pollMs !== undefined ? { pollMs } : {}),
        });
        say("stopped watching");
        return ExitCode.Interrupted;
      }
      if (flags.watch !== undefined && !controller.signal.aborted) {
        say(`watching ${flags.watch} (imported/ and rejected/ beside it); stop with Ctrl-C`);
        await watchInbox(cdb, {
          dir: flags.watch,
          keyring,
          signal: controller.signal,
          ...(pollMs !== undefined ? { pollMs } : {}),
          onEvent: (e) => say(describeInboxEvent(e)),
        });
        say("stopped watching");
        return ExitCode.Interrupted;
      }
    } finally {
      await cdb.close();
    }
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
  if (controller.signal.aborted)
    throw new TiersError(ExitCode.Interrupted, "interrupted: the bundle being imported was not stored");
  if (refused > 0) {
    process.stderr.write(
      `error: ${refused} of ${files.length} bundle${files.length === 1 ? "" : "s"} refused; nothing of them was stored\n`,
    );
    return ExitCode.BundleRejected;
  }
  return ExitCode.Ok;
}
