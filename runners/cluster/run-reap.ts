import { resolve } from "node:path";
import type * as automation from "@pulumi/pulumi/automation/index.js";
import { ExitCode, TiersError } from "../../tiers/errors.js";
import { PROJECT_DIR } from "../../stacks/config/source.js";
import { findOrphans } from "./orphans.js";
import { reapFailure, reapStacks } from "./reap.js";
import { destroyRetryFromEnv } from "./run-cluster.js";
import { openWorkspace } from "./tier-stack.js";

export interface ReapOptions {
  readonly dryRun: boolean;
  readonly olderThanMs?: number;
  readonly maxLifetimeMs: number;
  /** `list` the orphaned AWS resources, `delete` them too, or `skip` AWS altogether. */
  readonly orphans: "list" | "delete" | "skip";
  readonly regions: readonly string[];
  readonly projectDir?: string;
  readonly pulumiCommand?: automation.PulumiCommand;
  readonly now?: Date;
}

/** `tiers reap`: expired stacks first (their destroy removes most resources), then the orphans. */
export async function runReap(
  options: ReapOptions,
  say: (line: string) => void,
  signal: AbortSignal,
): Promise<{ exitCode: number }> {
  const now = options.now ?? new Date();
  const { auto, ws } = await openWorkspace({
    projectDir: resolve(options.projectDir ?? process.env.TIERS_PROJECT_DIR ?? PROJECT_DIR),
    ...(options.pulumiCommand ? { pulumiCommand: options.pulumiCommand } : {}),
  });
  const stacks = await reapStacks({
    auto,
    workspace: ws,
    now,
    maxLifetimeMs: options.maxLifetimeMs,
    ...(options.olderThanMs !== undefined ? { olderThanMs: options.olderThanMs } : {}),
    dryRun: options.dryRun,
    destroyRetry: destroyRetryFromEnv(process.env),
    signal,
    say,
  });
  const failed = [...stacks.failed];
  if (options.orphans !== "skip") {
    const { listTaggedResources, deleteOrphan } = await import("./orphans-aws.js");
    const live = new Set(stacks.live.map((s) => s.split("/").pop() ?? s));
    for (const region of options.regions) {
      let resources;
      try {
        resources = await listTaggedResources(region);
      } catch (error) {
        throw new TiersError(
          ExitCode.Infrastructure,
          `tiers reap: the tagged resources of ${region} cannot be listed: ${(error as Error).message}`,
          {
            details: ["AWS credentials with tag:GetResources are needed; --stacks-only skips this part"],
          },
        );
      }
      for (const o of findOrphans(resources, live, now)) {
        const line = `${o.arn} (stack ${o.stack}, expired ${o.expiresAt})`;
        if (options.orphans === "list" || options.dryRun) {
          say(`orphan ${line}${o.target ? "" : ": no automatic deletion, delete it by hand"}`);
          continue;
        }
        try {
          await deleteOrphan(o, region);
          say(`deleted orphan ${line}`);
        } catch (error) {
          failed.push(o.arn);
          say(`FAILED orphan ${line}: ${(error as Error).message}`);
        }
      }
    }
  }
  if (failed.length > 0) throw reapFailure(failed);
  return { exitCode: ExitCode.Ok };
}
