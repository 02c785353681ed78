import type { Command } from "commander";
import { ConfigError } from "../../../tiers/config/issues.js";
import { ExitCode, TiersError } from "../../../tiers/errors.js";
import { formatDuration } from "../../../tiers/units.js";
import { renderTable } from "../../format/table.js";
import { captureStack } from "../../infra/capture.js";
import { countByType, isProviderType, renderTree, type CapturedGraph } from "../../infra/graph.js";
import { runCommand } from "../run-command.js";

interface PreviewFlags {
  json?: boolean;
  stackFile?: string;
  environments?: string;
}

export function registerPreviewOfflineCommand(program: Command): void {
  program
    .command("preview-offline")
    .description(
      "run the whole Pulumi program for a stack under Pulumi's mock runtime (no CLI, cloud or cluster) and print what it registers",
    )
    .argument("<stack>", "a stack of stacks/ (local, base, stress, chaos, ultimate)")
    .option("--json", "print the captured graph as JSON (secret values redacted)")
    .option(
      "--stack-file <file>",
      "read the stack config from this file instead of stacks/Pulumi.<stack>.yaml",
    )
    .option("--environments <n>", "override test-tiers:environments with n generated environments")
    .action((stack: string, flags: PreviewFlags) =>
      runCommand(async () => {
        const overrides: Record<string, unknown> = {};
        if (flags.environments !== undefined) {
          if (!/^\d+$/.test(flags.environments)) {
            throw new TiersError(
              ExitCode.Usage,
              `--environments: not a whole number (got ${JSON.stringify(flags.environments)})`,
            );
          }
          overrides["test-tiers:environments"] = Number(flags.environments);
        }
        const graph = await captureStack(stack, {
          ...(flags.stackFile !== undefined ? { stackFile: flags.stackFile } : {}),
          overrides,
        });
        if (!graph.ok) {
          if (graph.error?.issues)
            throw new ConfigError(graph.error.issues, `invalid stack configuration in ${graph.stackFile}`);
          throw new TiersError(
            ExitCode.Internal,
            `the program failed under the mock runtime: ${graph.error?.message ?? "no reason given"}`,
          );
        }
        process.stdout.write(
          flags.json ? `${JSON.stringify(graph, null, 2)}\n` : `${renderPreview(graph)}\n`,
        );
      }),
    );
}

/** The resource tree, the counts per type, and what the figures mean. */
export function renderPreview(graph: CapturedGraph): string {
  const providers = graph.resources.filter((r) => isProviderType(r.type)).length;
  const components = graph.resources.filter((r) => !r.custom).length;
  const custom = graph.resources.length - providers - components;
  return [
    `Stack ${graph.stack} (${graph.stackFile}), offline under Pulumi's mock runtime`,
    "",
    renderTree(graph),
    "",
    renderTable(
      [{ header: "type" }, { header: "count", align: "right" }],
      countByType(graph.resources).map(([type, n]) => [type, String(n)]),
    ),
    "",
    `${graph.resources.length} resources: ${custom} cloud/cluster objects, ${components} components, ${providers} providers; ` +
      `program ${formatDuration(graph.timings.programMs)} (imports ${formatDuration(graph.timings.importMs)}, whole run ${formatDuration(graph.timings.totalMs)}).`,
    "Verified offline: the graph, its inputs and providers. Not verified: anything a provider or API server decides (`pulumi up`).",
  ].join("\n");
}
