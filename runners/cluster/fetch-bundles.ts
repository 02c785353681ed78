import { mkdir } from "node:fs/promises";
import { basename, join } from "node:path";
import type * as automation from "@pulumi/pulumi/automation/index.js";
import { ExitCode, TiersError } from "../../tiers/errors.js";
import { isBundleFileName } from "../../workloads/central/import/inbox.js";
import { defaultClient, forwardToOrchestrator } from "./cluster-target.js";
import { environmentsOf } from "./stack-outputs.js";
import { describeCommandError, openWorkspace } from "./tier-stack.js";

export interface FetchOptions {
  readonly stack: string;
  readonly outDir: string;
  readonly projectDir: string;
  /** Only bundles whose file name contains this cycle id. */
  readonly cycle?: string;
  readonly pulumiCommand?: automation.PulumiCommand;
}

/**
 * `tiers bundles fetch <stack>`: every bundle of a deployed stack, for a person to carry to the
 * centre. Reads the stack's outputs; from each environment's S3 prefix where it has one (each object
 * verified against its sha256), else through the orchestrator's API over a port-forward (the `local`
 * stack). Files land as `<env>--<file>` in `outDir`; `tiers central import <outDir>` takes them.
 */
export async function fetchBundles(
  options: FetchOptions,
  say: (line: string) => void,
  signal: AbortSignal,
): Promise<{ files: string[] }> {
  const { auto, ws } = await openWorkspace({
    projectDir: options.projectDir,
    ...(options.pulumiCommand ? { pulumiCommand: options.pulumiCommand } : {}),
  });
  let outputs: automation.OutputMap;
  try {
    outputs = await (await auto.Stack.select(options.stack, ws)).outputs();
  } catch (error) {
    throw new TiersError(ExitCode.Infrastructure, `stack ${options.stack}: ${describeCommandError(error)}`, {
      cause: error,
    });
  }
  const values = Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, v.value as unknown]));
  const environments = environmentsOf(options.stack, values);
  await mkdir(options.outDir, { recursive: true });
  const wanted = (name: string) =>
    isBundleFileName(name) && (options.cycle === undefined || name.includes(options.cycle));
  const files: string[] = [];
  for (const env of environments) {
    if (env.bucket) {
      const { S3Client } = await import("@aws-sdk/client-s3");
      const { listObjects, downloadVerified } = await import("../../workloads/bundle/s3-store.js");
      const s3 = new S3Client({ region: env.bucket.region });
      try {
        for (const o of await listObjects(s3, env.bucket.name, env.bucket.prefix)) {
          const name = basename(o.key);
          if (!wanted(name)) continue;
          const to = join(options.outDir, `${env.id}--${name}`);
          await downloadVerified(s3, { bucket: env.bucket.name, key: o.key, to, signal });
          files.push(to);
          say(`${env.id}: s3://${env.bucket.name}/${o.key} → ${to}`);
        }
      } finally {
        s3.destroy();
      }
      continue;
    }
    const forward = await forwardToOrchestrator(env, signal);
    try {
      const client = defaultClient(env, forward.address);
      for (const b of await client.bundles()) {
        if (!wanted(b.file)) continue;
        const to = join(options.outDir, `${env.id}--${b.file}`);
        await client.download(b.bundle_id, to);
        files.push(to);
        say(`${env.id}: ${b.file} through the orchestrator's API → ${to}`);
      }
    } finally {
      await forward.close();
    }
  }
  say(
    `${files.length} bundle${files.length === 1 ? "" : "s"} in ${options.outDir}; tiers central import ${options.outDir}`,
  );
  return { files };
}
