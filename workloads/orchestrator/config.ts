import { statSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { z } from "zod";
import { ConfigError, type ConfigIssue } from "../../tiers/config/issues.js";
import { MAX_SECRET_BYTES, readTextFile } from "../../tiers/config/read-file.js";
import { validateSource } from "../../tiers/config/validate.js";
import { readYamlFile, syntheticSource } from "../../tiers/config/yaml-source.js";
import { loadEnvironmentFile, type BundleStoreConfig } from "./environment-file.js";

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
  /** The stack's `environment.json` (where bundles go); without one they stay in `<data_dir>/bundles`. */
  environment_file: z.string().optional(),
  /**
   * Who injects the chaos phase's faults into an external SUT: `chaos-mesh` (the cluster target:
   * Chaos Mesh resources in the orchestrator's namespace, through the Kubernetes API). Unset, an
   * external SUT's faults are recorded as skipped; a local SUT's are always the local injectors'.
   */
  faults: z.enum(["chaos-mesh"]).optional(),
});
export type OrchestratorConfig = z.infer<typeof OrchestratorConfig>;

export interface ResolvedConfig extends OrchestratorConfig {
  readonly api_token: string;
  readonly signing_key_file: string;
  /** Where exported bundles go besides the volume: the environment's S3 prefix on EKS. */
  readonly bundle_store: BundleStoreConfig;
  readonly paths: {
    readonly db: string;
    readonly raw: string;
    readonly scratch: string;
    readonly bundles: string;
    readonly sutStorage: string;
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
  TIERS_FAULTS: "faults",
};

/** The command-line flag of each key the commands set (`serve --listen` …), for messages. */
const CLI_FLAGS: Readonly<Record<string, string>> = {
  environment: "--env",
  data_dir: "--data-dir",
  listen: "--listen",
  api_token_file: "--token-file",
  plan_file: "--plan",
  region_latency_ms: "--region-latency-ms",
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
    paths: {
      db: join(dataDir, "env.db"),
      raw: join(dataDir, "raw"),
      scratch: join(dataDir, "scratch"),
      bundles: join(dataDir, "bundles"),
      sutStorage: join(dataDir, "sut"),
    },
  };
}
