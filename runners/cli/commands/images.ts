import type { Command } from "commander";
import { ConfigError } from "../../../tiers/config/issues.js";
import { ExitCode } from "../../../tiers/errors.js";
import { buildImages } from "../../images/build.js";
import { checkImages } from "../../images/check.js";
import { ENGINES, isEngine, resolveEngine, type Engine } from "../../images/engine.js";
import { DEFAULT_REGISTRY, projectVersion } from "../../images/images.js";
import { runCommand } from "../run-command.js";

interface ImagesFlags {
  readonly engine?: string;
  readonly tag?: string;
  readonly registry?: string;
}

function engineFlag(flags: ImagesFlags): Engine | undefined {
  if (flags.engine === undefined) return undefined;
  if (isEngine(flags.engine)) return flags.engine;
  throw new ConfigError([
    {
      file: "command line",
      path: "--engine",
      message: "unknown engine",
      got: JSON.stringify(flags.engine),
      expected: ENGINES.join(" or "),
    },
  ]);
}

const say = (line: string) => process.stdout.write(`${line}\n`);

/**
 * `tiers images build` and `tiers images check`: the base image, then the orchestrator and SUT
 * images FROM it (workloads/{base,orchestrator,sut}/Dockerfile), built with podman or docker;
 * and each image's checks run for real in containers.
 */
export function registerImagesCommand(program: Command): void {
  const images = program
    .command("images")
    .description("build the container images (base, orchestrator, sut) and check them");
  const common = (c: Command) =>
    c
      .option("--engine <engine>", `container engine: ${ENGINES.join(" or ")} (default: the first that runs)`)
      .option("--tag <tag>", `image tag (default: the project's version, ${projectVersion()})`)
      .option("--registry <prefix>", `image name prefix (default: ${DEFAULT_REGISTRY})`);
  common(
    images
      .command("build")
      .description(
        "build every image in order, the base first (the CA bundle of NODE_EXTRA_CA_CERTS as a build secret)",
      ),
  )
    .option(
      "--base <image>",
      "the Node image the base starts FROM (default: the official one pinned by digest; here: localhost/test-tiers/node-stand-in:20 made by .ci/node-stand-in)",
    )
    .addHelpText("after", "\nExit codes: 0 built; 3 a bad option; 6 no engine runs, or a build failed.")
    .action((flags: ImagesFlags & { base?: string }) =>
      runCommand(async () => {
        const engine = await resolveEngine(engineFlag(flags));
        const abort = new AbortController();
        const onSignal = () => abort.abort();
        process.once("SIGINT", onSignal);
        process.once("SIGTERM", onSignal);
        try {
          const built = await buildImages({
            engine,
            ...(flags.base !== undefined ? { nodeImage: flags.base } : {}),
            ...(flags.tag !== undefined ? { tag: flags.tag } : {}),
            ...(flags.registry !== undefined ? { registry: flags.registry } : {}),
            say,
            signal: abort.signal,
          });
          say(`built ${built.length} images with ${engine}: ${built.map((b) => b.ref).join(", ")}`);
          return ExitCode.Ok;
        } finally {
          process.off("SIGINT", onSignal);
          process.off("SIGTERM", onSignal);
        }
      }),
    );
  common(
    images
      .command("check")
      .description(
        "run each image's checks: uid 10001, read-only root, no capabilities, tini PID 1 reaping orphans, healthcheck",
      ),
  )
    .addHelpText(
      "after",
      "\nExit codes: 0 every check passed; 3 a bad option; 6 no engine runs, or a check failed.",
    )
    .action((flags: ImagesFlags) =>
      runCommand(async () => {
        const engine = await resolveEngine(engineFlag(flags));
        const results = await checkImages({
          engine,
          ...(flags.tag !== undefined ? { tag: flags.tag } : {}),
          ...(flags.registry !== undefined ? { registry: flags.registry } : {}),
          say,
        });
        const failed = results.filter((r) => !r.ok);
        say(
          failed.length === 0
            ? `all ${results.length} checks passed`
            : `${failed.length} of ${results.length} checks failed`,
        );
        return failed.length === 0 ? ExitCode.Ok : ExitCode.Infrastructure;
      }),
    );
}
