import { statSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { z } from "zod";
import { ConfigError, type ConfigIssue } from "../../tiers/config/issues.js";
import { MAX_SECRET_BYTES, readTextFile } from "../../tiers/config/read-file.js";
import { validateSource } from "../../tiers/config/validate.js";
import { readYamlFile, syntheticSource } from "../../tiers/config/yaml-source.js";
import { LOAD_WORKER_CAPACITY_RPS, LOAD_WORKER_SERVICE_ACCOUNT } from "../../tiers/infra/load-job.js";
import { loadEnvironmentFile, type BundleStoreConfig } from "./environment-file.js";
import { readServerTls, type ServerTls } from "./tls-files.js";

/**
 * How one orchestrator runs: which environment it is, where its data lives, where it listens, its
 * token, its SUT. From a file (`--config`, JSON or YAML) and `TIERS_*` environment variables (the
 * cluster target's Deployment sets those; docs/architecture.md "Contract for the orchestrator
 * image"); the environment wins over the file.
 */
export const SutConfig = z.discriminatedUnion("mode", [
  /** The local target: the orchestrator runs the sample SUT under its supervisor. */
  z.strictObject({
    mode: z.literal("local"),
    port: z.number().int().min(0).max(65535).default(0),
    /** Work per request of the sample SUT's /work endpoint. */
    cpu_ms: z.number().min(0).max(10_000).default(2),
    delay_ms: z.number().min(0).max(60_000).default(0),
    error_rate: z.number().min(0).max(1).default(0),
    /** Start the SUT under libfaketime so clock_skew can move its clock (when libfaketime exists). */
    fake_clock: z.boolean().default(true),
  }),
  /** The cluster target: the SUT is a Service; faults come from Chaos Mesh, not from here. */
  z.strictObject({ mode: z.literal("external"), url: z.url() }),
]);
export type SutConfig = z.infer<typeof SutConfig>;

/** `host:port`, the port within `min`…65535, checked before anything is created on disk. */
function hostPort(min: 0 | 1) {
  const expected = `host:port with a port from ${min} to 65535${min === 0 ? " (0: any free port)" : ""}`;
  return z.string().superRefine((value, ctx) => {
    const m = /^([^:\s]+):(\d{1,5})$/.exec(value);
    const port = m ? Number(m[2]) : NaN;
    if (!m || port < min || port > 65535)
      ctx.addIssue({
        code: "custom",
        message: m ? "the port is out of range" : "not host:port",
        params: { got: JSON.stringify(value), expected },
      });
  });
}

/** A number, also as the decimal text an environment variable holds. */
function numberOrText(n: z.ZodNumber) {
  return z.preprocess((v) => (typeof v === "string" && /^\s*\d+(\.\d+)?\s*$/.test(v) ? Number(v) : v), n);
}

export const OrchestratorConfig = z.strictObject({
  /** The plan environment this orchestrator is (its id in the plan). */
  environment: z.string().min(1),
  data_dir: z.string().min(1),
  listen: hostPort(0).default("127.0.0.1:8080"),
  api_token: z.string().min(16, { message: "expected a token of at least 16 characters" }).optional(),
  api_token_file: z.string().optional(),
  signing_key_file: z.string().optional(),
  plan_file: z.string().optional(),
  sut: SutConfig.default({ mode: "local", port: 0, cpu_ms: 2, delay_ms: 0, error_rate: 0, fake_clock: true }),
  /** `host:port` of an iperf3 server; without one the adapter starts its own on loopback. */
  iperf3_server: hostPort(1).optional(),
  /** One-way latency (ms) the local fault proxy adds between load generator and SUT: a simulated region. */
  region_latency_ms: z.number().min(0).max(10_000).default(0),
  /**
   * Worker processes the HTTP load runs in (`tiers local --load-workers N`, whose default, 1, keeps
   * load off the loop that serves the API, the probes and the sampler). 0 runs it in this process:
   * the default for a bare orchestrator, whose step commands already run one step per process (or
   * per pod); a worker costs a process start (1–4 s here) per load stretch.
   */
  load_workers: z.number().int().min(0).max(64).default(0),
  /**
   * The cluster target: run each stretch of HTTP load as a Kubernetes Indexed Job of this image's
   * `load-worker` (the orchestrator's own image) in the orchestrator's namespace, instead of in
   * local processes (load/job-workers.ts). Needs the Kubernetes API (a pod's service account, or
   * TIERS_KUBECONFIG) and an external SUT.
   */
  load_job_image: z.string().min(1).optional(),
  /** At most this many worker pods per Job: what the namespace's quota leaves for them. */
  load_job_max_workers: numberOrText(z.number().int().min(1).max(1000)).default(4),
  /** Planned requests per second per worker pod: a Job has ceil(rps / this) pods. */
  load_worker_capacity_rps: numberOrText(z.number().min(1).max(10_000_000)).default(LOAD_WORKER_CAPACITY_RPS),
  /** Seconds from creating a load Job to its pods' common start (scheduling, image pull). */
  load_job_start_s: numberOrText(z.number().min(0).max(3600)).default(30),
  /** The ServiceAccount the worker pods run as (it may do nothing). */
  load_worker_service_account: z.string().min(1).default(LOAD_WORKER_SERVICE_ACCOUNT),
  /** The stack's `environment.json` (where bundles go); without one they stay in `<data_dir>/bundles`. */
  environment_file: z.string().optional(),
  /** PEM certificate chain (server first) the API serves HTTPS with (TLS 1.3); with `tls_key_file`. */
  tls_cert_file: z.string().min(1).optional(),
  /** PEM private key of `tls_cert_file`: 0600, 0400 or 0440 (a Secret volume). */
  tls_key_file: z.string().min(1).optional(),
  /** Serve plain HTTP: only when asked for (`--insecure-http`); never together with a certificate. */
  insecure_http: z.boolean().default(false),
  /**
   * Who injects the chaos phase's faults into an external SUT: `chaos-mesh` (the cluster target:
   * Chaos Mesh resources in the orchestrator's namespace, through the Kubernetes API). Unset, an
   * external SUT's faults are recorded as skipped; a local SUT's are always the local injectors'.
   */
  faults: z.enum(["chaos-mesh"]).optional(),
  /**
   * OTLP/HTTP (protobuf) traces endpoint, e.g. `http://otel-collector.monitoring:4318/v1/traces`.
   * Without one, a cycle's spans go into its bundle as `traces.ndjson`.
   */
  otlp_endpoint: z.url({ protocol: /^https?$/ }).optional(),
});
export type OrchestratorConfig = z.infer<typeof OrchestratorConfig>;

export interface ResolvedConfig extends OrchestratorConfig {
  readonly api_token: string;
  readonly signing_key_file: string;
  /** Where exported bundles go besides the volume: the environment's S3 prefix on EKS. */
  readonly bundle_store: BundleStoreConfig;
  /** The certificate and key the API serves HTTPS with; undefined without `tls_cert_file`. */
  readonly tls: ServerTls | undefined;
  readonly paths: {
    readonly db: string;
    readonly raw: string;
    readonly scratch: string;
    readonly bundles: string;
    readonly sutStorage: string;
    /** Offline spans, one `<cycle-id>.ndjson` each, for the bundle. */
    readonly traces: string;
  };
}

const ENV_KEYS: Readonly<Record<string, keyof OrchestratorConfig>> = {
  TIERS_ENVIRONMENT: "environment",
  TIERS_DATA_DIR: "data_dir",
  TIERS_LISTEN: "listen",
  TIERS_API_TOKEN: "api_token",
  TIERS_API_TOKEN_FILE: "api_token_file",
  TIERS_SIGNING_KEY_FILE: "signing_key_file",
  TIERS_PLAN: "plan_file",
  TIERS_IPERF3_SERVER: "iperf3_server",
  TIERS_ENVIRONMENT_CONFIG: "environment_file",
  TIERS_TLS_CERT_FILE: "tls_cert_file",
  TIERS_TLS_KEY_FILE: "tls_key_file",
  // OpenTelemetry's own variable, and ours (which wins: it comes later).
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "otlp_endpoint",
  TIERS_OTLP_ENDPOINT: "otlp_endpoint",
  TIERS_FAULTS: "faults",
  TIERS_LOAD_JOB_IMAGE: "load_job_image",
  TIERS_LOAD_JOB_MAX_WORKERS: "load_job_max_workers",
  TIERS_LOAD_WORKER_CAPACITY_RPS: "load_worker_capacity_rps",
  TIERS_LOAD_JOB_START_S: "load_job_start_s",
  TIERS_LOAD_WORKER_SERVICE_ACCOUNT: "load_worker_service_account",
};

/** The command-line flag of each key the commands set (`serve --listen` …), for messages. */
const CLI_FLAGS: Readonly<Record<string, string>> = {
  environment: "--env",
  data_dir: "--data-dir",
  listen: "--listen",
  api_token_file: "--token-file",
  plan_file: "--plan",
  region_latency_ms: "--region-latency-ms",
  tls_cert_file: "--tls-cert",
  tls_key_file: "--tls-key",
  insecure_http: "--insecure-http",
};

/** Every environment variable the orchestrator's config reads (they override its config file). */
export const ORCHESTRATOR_ENV_VARIABLES: readonly string[] = [...Object.keys(ENV_KEYS), "TIERS_SUT_URL"];

/**
 * The API token from a file: a regular file of at most `MAX_SECRET_BYTES`, UTF-8, that neither its
 * group nor others can read or write (like the signing key, and stricter: the cluster hands the
 * token over in `TIERS_API_TOKEN`, so a token file has no reason to be group-readable).
 */
function readTokenFile(path: string, at: Omit<ConfigIssue, "message">): string {
  let mode: number;
  try {
    mode = statSync(path).mode & 0o777;
  } catch {
    mode = 0;
  }
  const read = readTextFile(path, { maxBytes: MAX_SECRET_BYTES });
  if (read.text === undefined)
    throw new ConfigError(read.issues.map((i) => ({ ...at, message: `${path}: ${i.message}`, ...pick(i) })));
  if ((mode & 0o077) !== 0)
    throw new ConfigError([
      {
        ...at,
        message: `token file ${path} is readable or writable by its group or others (mode ${mode.toString(8).padStart(4, "0")}); run chmod 600 ${path}`,
        got: mode.toString(8).padStart(4, "0"),
        expected: "0600 or 0400",
      },
    ]);
  return read.text.trim();
}

const pick = (i: ConfigIssue) => ({
  ...(i.got !== undefined ? { got: i.got } : {}),
  ...(i.expected !== undefined ? { expected: i.expected } : {}),
});

/**
 * Loads the config from a file, the environment and command-line overrides (in that order), all
 * problems at once. `requireToken` is false for the commands that serve no API.
 */
export function loadOrchestratorConfig(
  file: string | undefined,
  env: NodeJS.ProcessEnv,
  overrides: Partial<Record<keyof OrchestratorConfig, unknown>> = {},
  requireToken = true,
): ResolvedConfig {
  const issues: ConfigIssue[] = [];
  let data: Record<string, unknown> = {};
  let source = syntheticSource("environment", data);
  if (file !== undefined) {
    const read = readYamlFile(file);
    issues.push(...read.issues);
    if (read.source) {
      source = read.source;
      const d = read.source.data;
      if (d !== null && typeof d === "object" && !Array.isArray(d))
        data = { ...(d as Record<string, unknown>) };
    }
  }
  // Where each value came from when not from the file: a problem is reported there.
  const origins = new Map<string, { file: string; path: string }>();
  for (const [key, field] of Object.entries(ENV_KEYS)) {
    if (env[key] === undefined) continue;
    data[field] = env[key];
    origins.set(field, { file: "environment", path: key });
  }
  if (env.TIERS_SUT_URL !== undefined) {
    data.sut = { mode: "external", url: env.TIERS_SUT_URL };
    origins.set("sut", { file: "environment", path: "TIERS_SUT_URL" });
  }
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) continue;
    data[k] = v;
    origins.set(k, { file: "command line", path: CLI_FLAGS[k] ?? k });
  }
  if (issues.length > 0) throw new ConfigError(issues, `invalid orchestrator config`);
  const checked = validateSource(OrchestratorConfig, { ...source, data });
  if (!checked.value)
    throw new ConfigError(
      checked.issues.map((i) => {
        const origin = origins.get(i.path.split(/[.[]/)[0]!);
        return origin ? { ...pick(i), message: i.message, ...origin } : i;
      }),
      "invalid orchestrator config",
    );
  const c = checked.value;
  let token = c.api_token;
  if (token === undefined && c.api_token_file !== undefined) {
    const at = origins.get("api_token_file") ?? {
      ...source.positionOf(["api_token_file"]),
      path: "api_token_file",
    };
    token = readTokenFile(c.api_token_file, at);
  }
  if (requireToken && (token === undefined || token.length < 16)) {
    throw new ConfigError([
      {
        file: file ?? "environment",
        path: "api_token",
        message: "the API needs a bearer token",
        expected:
          "api_token / TIERS_API_TOKEN, or api_token_file / TIERS_API_TOKEN_FILE, of at least 16 characters",
      },
    ]);
  }
  const base = file !== undefined ? resolve(file, "..") : process.cwd();
  const tls = !requireToken
    ? undefined
    : serverTlsOf(c, base, (key) => origins.get(key) ?? { ...source.positionOf([key]), path: key });
  const dataDir = isAbsolute(c.data_dir) ? c.data_dir : resolve(base, c.data_dir);
  const bundleStore: BundleStoreConfig =
    c.environment_file !== undefined
      ? loadEnvironmentFile(resolve(base, c.environment_file), c.environment).bundles
      : { kind: "volume", path: join(dataDir, "bundles") };
  return {
    ...c,
    data_dir: dataDir,
    api_token: token ?? "",
    signing_key_file: c.signing_key_file ?? join(dataDir, "keys", "bundle-signing.pem"),
    bundle_store: bundleStore,
    tls,
    paths: {
      db: join(dataDir, "env.db"),
      raw: join(dataDir, "raw"),
      scratch: join(dataDir, "scratch"),
      bundles: join(dataDir, "bundles"),
      sutStorage: join(dataDir, "sut"),
      traces: join(dataDir, "traces"),
    },
  };
}

/**
 * The API's certificate and key when the config names them (relative paths from the config file's
 * directory): both or neither, and never with `insecure_http`. Whether a server may go without
 * both is `requireTransport`'s question, asked by `serve` only.
 */
function serverTlsOf(
  c: OrchestratorConfig,
  base: string,
  at: (key: "tls_cert_file" | "tls_key_file" | "insecure_http") => Omit<ConfigIssue, "message">,
): ServerTls | undefined {
  const cert = c.tls_cert_file;
  const key = c.tls_key_file;
  if (cert === undefined && key === undefined) return undefined;
  if (cert === undefined || key === undefined) {
    const missing = cert === undefined ? "tls_cert_file" : "tls_key_file";
    throw new ConfigError(
      [
        {
          ...at(cert === undefined ? "tls_key_file" : "tls_cert_file"),
          message: `a TLS ${cert === undefined ? "key" : "certificate"} without its ${cert === undefined ? "certificate" : "key"}`,
          expected: `${missing} / ${missing === "tls_cert_file" ? "TIERS_TLS_CERT_FILE / --tls-cert" : "TIERS_TLS_KEY_FILE / --tls-key"} as well`,
        },
      ],
      "invalid orchestrator config",
    );
  }
  if (c.insecure_http)
    throw new ConfigError(
      [
        {
          ...at("insecure_http"),
          message: "plain HTTP was asked for together with a TLS certificate",
          expected: "either a certificate and key, or insecure_http (--insecure-http)",
        },
      ],
      "invalid orchestrator config",
    );
  return readServerTls(
    { cert: resolve(base, cert), key: resolve(base, key) },
    { cert: at("tls_cert_file"), key: at("tls_key_file") },
  );
}

/**
 * A server must be told how to serve: HTTPS with a certificate, or plain HTTP explicitly.
 * `orchestrator serve` calls this; the commands that serve no API do not.
 */
export function requireTransport(config: ResolvedConfig): void {
  if (config.tls !== undefined || config.insecure_http) return;
  throw new ConfigError(
    [
      {
        file: "command line",
        path: "--tls-cert",
        message: "the API serves HTTPS and has no certificate",
        expected:
          "--tls-cert and --tls-key (tls_cert_file and tls_key_file, TIERS_TLS_CERT_FILE and TIERS_TLS_KEY_FILE), or --insecure-http for plain HTTP",
      },
    ],
    "invalid orchestrator config",
  );
}
