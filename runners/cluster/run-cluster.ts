import { existsSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import type { S3Client } from "@aws-sdk/client-s3";
import type * as automation from "@pulumi/pulumi/automation/index.js";
import { databaseCentre, type Centre } from "../cycle/centre.js";
import { openRunDatabase } from "../cycle/handoff.js";
import type { OrchestratorClient } from "../cycle/orchestrator-client.js";
import {
  newCycleId,
  runCycleOnTarget,
  type CycleRunResult,
  type RunControl,
  type RunIo,
} from "../cycle/run-cycle.js";
import { centralInboxOf, readCentralStack } from "./central-stack.js";
import { ClusterTarget } from "./cluster-target.js";
import type { RunOptions } from "./run-options.js";
import type { ClusterEnvironment } from "./stack-outputs.js";
import { openWorkspace, type RetryOptions } from "./tier-stack.js";

/** What tests (and only tests) put in place of the user's CLI, AWS and TLS client. */
export interface ClusterRunDeps {
  readonly pulumiCommand?: automation.PulumiCommand;
  readonly envVars?: Readonly<Record<string, string>>;
  readonly destroyRetry?: RetryOptions;
  readonly readyTimeoutMs?: number;
  readonly watchMs?: number;
  readonly s3For?: (region: string) => Promise<S3Client>;
  readonly clientFor?: (environment: ClusterEnvironment, baseUrl: string) => OrchestratorClient;
}

/** Backoff of `destroy` from the environment (CI may want it shorter or longer): `TIERS_DESTROY_BACKOFF_MS`, `TIERS_DESTROY_ATTEMPTS`. */
export function destroyRetryFromEnv(env: NodeJS.ProcessEnv): RetryOptions {
  const n = (v: string | undefined) => (v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined);
  const backoffMs = n(env.TIERS_DESTROY_BACKOFF_MS);
  const attempts = n(env.TIERS_DESTROY_ATTEMPTS);
  return { ...(backoffMs !== undefined ? { backoffMs } : {}), ...(attempts ? { attempts } : {}) };
}

/**
 * `tiers run`: a tier's stack through the Automation API, then the same runner as `tiers local`:
 * up, reach every orchestrator, trigger and follow the cycle, bundles into the central inbox,
 * teardown always (destroy and `stack rm` for an ephemeral stack), import, analysis, reports.
 * Opens the results database before anything starts; never calls process.exit.
 */
export async function runCluster(
  options: RunOptions,
  io: RunIo,
  control: RunControl,
  deps: ClusterRunDeps = {},
): Promise<CycleRunResult> {
  const t0 = Date.now();
  // The centre is reached before anything starts: a wrong database or an undeployed central stack
  // fails now, not after the run.
  const { centre, close } = await openCentre(options, deps);
  let wroteStackFile = false;
  try {
    const { auto, ws } = await openWorkspace({
      projectDir: options.projectDir,
      ...(deps.pulumiCommand ? { pulumiCommand: deps.pulumiCommand } : {}),
      ...(deps.envVars ? { envVars: deps.envVars } : {}),
    });
    if (options.stackFileText !== undefined) {
      await writeFile(options.stackFile, options.stackFileText, { flag: "wx" });
      wroteStackFile = true;
    }
    if (options.ephemeral)
      io.out.write(
        `tiers run: ephemeral stack ${options.stackName}, expires at ${options.expiresAt}${options.keepStack ? ", kept after the run" : ""}\n`,
      );
    const target = new ClusterTarget({
      auto,
      workspace: ws,
      stackName: options.stackName,
      ephemeral: options.ephemeral,
      keepStack: options.keepStack,
      config: options.config,
      tags: options.tags,
      destroyRetry: deps.destroyRetry ?? destroyRetryFromEnv(process.env),
      ...(deps.readyTimeoutMs !== undefined ? { readyTimeoutMs: deps.readyTimeoutMs } : {}),
      ...(deps.watchMs !== undefined ? { watchMs: deps.watchMs } : {}),
      ...(deps.s3For ? { s3For: deps.s3For } : {}),
      ...(deps.clientFor ? { clientFor: deps.clientFor } : {}),
    });
    return await runCycleOnTarget(
      target,
      {
        plan: options.plan,
        command: "tiers run",
        cycleId: newCycleId(options.stackName),
        outDir: options.outDir,
        failOn: options.failOn,
        preflightMs: Date.now() - t0,
      },
      centre,
      io,
      control,
    );
  } finally {
    await close();
    // `pulumi stack rm` removed the file with the stack; one left after the stack was never created goes too.
    if (wroteStackFile && existsSync(options.stackFile) && !(await stackStillExists(options, deps)))
      await rm(options.stackFile, { force: true });
  }
}

/**
 * The run's centre: the results database the runner imports into, or a central stack's S3 inbox
 * (from the stack's outputs, or named as s3://…), whose importer and report job do the rest.
 */
async function openCentre(
  options: RunOptions,
  deps: ClusterRunDeps,
): Promise<{ centre: Centre; close: () => Promise<void> }> {
  const choice = options.central;
  if (choice.kind === "database") {
    const cdb = await openRunDatabase(choice.location);
    return { centre: databaseCentre(cdb, choice.location), close: () => cdb.close() };
  }
  const { s3InboxCentre } = await import("../cycle/s3-centre.js");
  let s3: S3Client | undefined;
  const client = async (region: string | undefined): Promise<S3Client> => {
    if (deps.s3For && region) return (s3 ??= await deps.s3For(region));
    const { centralS3Client } = await import("../../workloads/central/import/s3-client.js");
    return (s3 ??= centralS3Client(region ? { ...process.env, AWS_REGION: region } : process.env));
  };
  if (choice.kind === "inbox") {
    const description = `the central inbox s3://${choice.inbox.bucket}/${choice.inbox.prefix}`;
    return {
      centre: s3InboxCentre({
        client: () => client(undefined),
        inbox: choice.inbox,
        ...(choice.reports ? { reports: choice.reports } : {}),
        description,
        ...centreWait(process.env),
      }),
      close: () => Promise.resolve(s3?.destroy()),
    };
  }
  const outputs = await readCentralStack(choice.stack, {
    projectDir: options.projectDir,
    ...(deps.pulumiCommand ? { pulumiCommand: deps.pulumiCommand } : {}),
  });
  const { inbox, reports } = centralInboxOf(outputs);
  return {
    centre: s3InboxCentre({
      client: () => client(outputs.region),
      inbox,
      reports,
      description: `central stack ${outputs.stack} (s3://${inbox.bucket}/${inbox.prefix})`,
      ...centreWait(process.env),
    }),
    close: () => Promise.resolve(s3?.destroy()),
  };
}

/** `TIERS_CENTRAL_WAIT_MS` (how long to wait for the centre's importer), `TIERS_CENTRAL_POLL_MS`. */
function centreWait(env: NodeJS.ProcessEnv): { waitMs?: number; pollMs?: number } {
  const n = (v: string | undefined) => (v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined);
  const waitMs = n(env.TIERS_CENTRAL_WAIT_MS);
  const pollMs = n(env.TIERS_CENTRAL_POLL_MS);
  return { ...(waitMs !== undefined ? { waitMs } : {}), ...(pollMs !== undefined ? { pollMs } : {}) };
}

/** Whether the ephemeral stack exists on the backend (its file is then kept: destroy needs it). */
async function stackStillExists(options: RunOptions, deps: ClusterRunDeps): Promise<boolean> {
  try {
    const { ws } = await openWorkspace({
      projectDir: options.projectDir,
      ...(deps.pulumiCommand ? { pulumiCommand: deps.pulumiCommand } : {}),
      ...(deps.envVars ? { envVars: deps.envVars } : {}),
    });
    return (await ws.listStacks()).some((s) => s.name === options.stackName);
  } catch {
    return true;
  }
}
