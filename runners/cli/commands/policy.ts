import type { Command } from "commander";
import { ExitCode, TiersError } from "../../../tiers/errors.js";
import { renderPolicyReport } from "../../policy/format-text.js";
import { checkStacks, exitCodeOfReport } from "../../policy/run.js";
import { toSarif } from "../../policy/sarif.js";
import { runCommand } from "../run-command.js";

const FORMATS = ["text", "json", "sarif"] as const;
type Format = (typeof FORMATS)[number];

interface CheckFlags {
  format: string;
  stackFile?: string;
  program?: string;
}

export function registerPolicyCommand(program: Command): void {
  const policy = program.command("policy").description("the CrossGuard policy pack (policies/)");
  policy
    .command("check")
    .description(
      "run each stack's program offline under Pulumi's mock runtime and apply every policy of the pack to what it registers; exit 8 on a mandatory violation",
    )
    .argument("<stacks...>", "stacks of stacks/ (local, base, stress, chaos, ultimate)")
    .option("--format <format>", `output format: ${FORMATS.join(", ")}`, "text")
    .option("--stack-file <file>", "read the config of the (single) stack from this file instead of stacks/")
    .option("--program <file>", "run this Pulumi program instead of stacks/index.ts (test fixtures)")
    .action((stacks: string[], flags: CheckFlags) =>
      runCommand(async () => {
        if (!(FORMATS as readonly string[]).includes(flags.format)) {
          throw new TiersError(
            ExitCode.Usage,
            `--format: not a format (got ${JSON.stringify(flags.format)}, expected one of ${FORMATS.join(", ")})`,
          );
        }
        if (flags.stackFile !== undefined && stacks.length !== 1) {
          throw new TiersError(
            ExitCode.Usage,
            `--stack-file names the config of one stack (got ${stacks.length} stacks: ${stacks.join(", ")})`,
          );
        }
        const report = await checkStacks(stacks, {
          ...(flags.stackFile !== undefined ? { stackFile: flags.stackFile } : {}),
          ...(flags.program !== undefined ? { program: flags.program } : {}),
        });
        const format = flags.format as Format;
        const out =
          format === "text"
            ? renderPolicyReport(report)
            : JSON.stringify(
                format === "sarif" ? toSarif(report) : { kind: "test-tiers/policy-check", ...report },
                null,
                2,
              );
        process.stdout.write(`${out}\n`);
        return exitCodeOfReport(report);
      }),
    );
}
