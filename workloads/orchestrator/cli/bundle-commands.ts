import type { Command } from "commander";
import { traceFile } from "../telemetry/tracing.js";
import { ExitCode, TiersError } from "../../../tiers/errors.js";
import { formatKeyringLine, loadKeyring, parseKeyring } from "../../bundle/keyring.js";
import { loadSigningKey } from "../../bundle/keys.js";
import { verifyBundle } from "../../bundle/reader.js";
import { exportBundle } from "../export/export-bundle.js";
import { EnvStore } from "../storage/env-store.js";
import { configFrom, emitJson, withConfigFlags, type ConfigFlags } from "./common.js";

/** `orchestrator export CYCLE` and `orchestrator verify-bundle FILE`. */
export function registerBundleCommands(
  program: Command,
  run: (body: () => Promise<number | void>) => Promise<void>,
): void {
  withConfigFlags(program.command("export").description("export a finished cycle as a signed bundle"))
    .argument("<cycle>", "the cycle id")
    .option("--out <dir>", "where to write it (default <data-dir>/bundles)")
    .action((cycleId: string, flags: ConfigFlags & { out?: string }) =>
      run(async () => {
        const config = configFrom(flags);
        const store = EnvStore.open(config.paths.db);
        try {
          const key = await loadSigningKey(config.signing_key_file);
          const bundle = await exportBundle({
            store,
            cycleId,
            key,
            rawDir: config.paths.raw,
            outDir: flags.out ?? config.paths.bundles,
            config: {
              sut: config.sut,
              region_latency_ms: config.region_latency_ms,
              iperf3_server: config.iperf3_server ?? null,
            },
            traceFile: traceFile(config.paths.traces, cycleId),
          });
          emitJson({ event: "exported", ...bundle });
        } finally {
          store.close();
        }
      }),
    );

  withConfigFlags(
    program.command("verify-bundle").description("verify a bundle's signature, checksums, paths and content"),
  )
    .argument("<file>", "the bundle (.tar.gz)")
    .option("--keyring <file>", "trusted environment keys (default: this environment's own key)")
    .action((file: string, flags: ConfigFlags & { keyring?: string }) =>
      run(async () => {
        let keyring;
        if (flags.keyring !== undefined) keyring = await loadKeyring(flags.keyring);
        else {
          const config = configFrom(flags);
          const key = await loadSigningKey(config.signing_key_file).catch((error: unknown) => {
            throw new TiersError(
              ExitCode.InvalidConfig,
              `no key to verify with: ${(error as Error).message} (give --keyring)`,
            );
          });
          keyring = parseKeyring(
            formatKeyringLine(config.environment, key.publicRaw),
            config.signing_key_file,
          );
        }
        // Ctrl-C or SIGTERM stop the check and remove its extraction (exit 130); a stale one left
        // by a killed run is swept by the next.
        const controller = new AbortController();
        const stop = () => controller.abort();
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
        let manifest;
        try {
          manifest = await verifyBundle(file, { keyring, signal: controller.signal });
        } catch (error) {
          if (controller.signal.aborted)
            throw new TiersError(ExitCode.Interrupted, "interrupted: the bundle was not verified", {
              cause: error,
            });
          throw error;
        } finally {
          process.off("SIGINT", stop);
          process.off("SIGTERM", stop);
        }
        emitJson({
          event: "verified",
          bundle_id: manifest.bundle_id,
          cycle_id: manifest.cycle_id,
          environment: manifest.environment,
          counts: manifest.counts,
          files: manifest.files.length,
        });
      }),
    );
}
