import type { Command } from "commander";
import { createApiServer, listen } from "../api/server.js";
import { loadOrchestratorConfig, requireTransport } from "../config.js";
import { Environment } from "../environment.js";
import { emitJson, withConfigFlags, type ConfigFlags } from "./common.js";

/**
 * `orchestrator serve`: opens the environment, starts its runtime (local SUT and proxy, or the
 * external SUT), serves the API (HTTPS with TLS 1.3 when given a certificate and key; plain HTTP
 * only with --insecure-http) until SIGTERM/SIGINT, then interrupts the running cycle (load
 * stopped, faults undone, state kept for --resume) and stops everything it started.
 */
export function registerServe(
  program: Command,
  run: (body: () => Promise<number | void>) => Promise<void>,
): void {
  withConfigFlags(program.command("serve").description("serve the environment's HTTP API"))
    .option("--listen <host:port>", "where to listen (TIERS_LISTEN); port 0 picks a free one")
    .option("--token-file <file>", "file holding the API bearer token (TIERS_API_TOKEN_FILE)")
    .option("--plan <file>", "the default plan (TIERS_PLAN)")
    .option("--tls-cert <file>", "PEM certificate chain the API serves HTTPS with (TIERS_TLS_CERT_FILE)")
    .option("--tls-key <file>", "PEM private key of --tls-cert, mode 0600 (TIERS_TLS_KEY_FILE)")
    .option("--insecure-http", "serve plain HTTP, without TLS (only when asked for)")
    .option("--region-latency-ms <ms>", "one-way latency the local proxy adds (a simulated region)")
    .option(
      "--exit-with-parent",
      "stop (as on SIGTERM) when the process that started this one dies, even by SIGKILL",
    )
    .action(
      (
        flags: ConfigFlags & {
          listen?: string;
          tokenFile?: string;
          plan?: string;
          regionLatencyMs?: string;
          exitWithParent?: boolean;
          tlsCert?: string;
          tlsKey?: string;
          insecureHttp?: boolean;
        },
      ) =>
        run(async () => {
          const config = loadOrchestratorConfig(flags.config, process.env, {
            data_dir: flags.dataDir,
            environment: flags.env,
            listen: flags.listen,
            api_token_file: flags.tokenFile,
            plan_file: flags.plan,
            tls_cert_file: flags.tlsCert,
            tls_key_file: flags.tlsKey,
            insecure_http: flags.insecureHttp,
            // A number when it reads as one; otherwise the text, which the schema refuses with its value.
            region_latency_ms:
              flags.regionLatencyMs === undefined
                ? undefined
                : /^\s*\d+(\.\d+)?\s*$/.test(flags.regionLatencyMs)
                  ? Number(flags.regionLatencyMs)
                  : flags.regionLatencyMs,
          });
          requireTransport(config);
          const env = await Environment.open(config);
          const server = createApiServer(env, {
            token: config.api_token,
            redact: env.serverPaths(),
            ...(config.tls ? { tls: config.tls } : {}),
          });
          const i = config.listen.lastIndexOf(":");
          const host = config.listen.slice(0, i);
          let port: number;
          try {
            port = await listen(server, host, Number(config.listen.slice(i + 1)));
          } catch (error) {
            await env.close();
            throw error;
          }
          emitJson({
            event: "listening",
            host,
            port,
            scheme: config.tls ? "https" : "http",
            pid: process.pid,
            environment: config.environment,
            sut: env.runtime.targetUrl,
          });
          const stopped = new Promise<string>((resolve) => {
            process.once("SIGTERM", () => resolve("SIGTERM"));
            process.once("SIGINT", () => resolve("SIGINT"));
            // A runner killed by SIGKILL cannot stop us: we notice being re-parented and stop.
            if (flags.exitWithParent) {
              const parent = process.ppid;
              setInterval(() => {
                if (process.ppid !== parent) resolve("parent exit");
              }, 500).unref();
            }
          });
          const signal = await stopped;
          server.close();
          server.closeAllConnections();
          await env.close(
            signal === "parent exit"
              ? "the process that started the orchestrator died"
              : `the orchestrator received ${signal}`,
          );
          emitJson({ event: "stopped", signal });
          return 0;
        }),
    );
}
