import { Command, CommanderError } from "commander";
import { ExitCode } from "../../tiers/errors.js";
import { registerBundlesCommand } from "./commands/bundles.js";
import { registerCentralCommand } from "./commands/central.js";
import { registerImagesCommand } from "./commands/images.js";
import { registerLocalCommand } from "./commands/local.js";
import { registerMonitoringCommand } from "./commands/monitoring.js";
import { registerPlanCommand } from "./commands/plan.js";
import { registerPolicyCommand } from "./commands/policy.js";
import { registerPreviewOfflineCommand } from "./commands/preview-offline.js";
import { registerReapCommand } from "./commands/reap.js";
import { registerRunCommand } from "./commands/run.js";

/** The `tiers` CLI. Each command lives in its own file under commands/. */
export function buildProgram(): Command {
  const program = new Command("tiers")
    .description("test-tiers: provision and run test tiers, locally or on Kubernetes")
    .showHelpAfterError()
    .exitOverride();
  registerPlanCommand(program);
  registerLocalCommand(program);
  registerPreviewOfflineCommand(program);
  registerCentralCommand(program);
  registerPolicyCommand(program);
  registerRunCommand(program);
  registerReapCommand(program);
  registerBundlesCommand(program);
  registerMonitoringCommand(program);
  registerImagesCommand(program);
  return program;
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Help and version exit 0; every other commander error is a usage error.
    process.exitCode = error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
  } else {
    throw error;
  }
}
