import { resolve } from "node:path";
import { ConfigError, describeValue, type ConfigIssue } from "../../tiers/config/issues.js";
import { planFromSources } from "../../tiers/plan/compile.js";
import type { RawOptions } from "../../tiers/plan/options.js";
import type { CyclePlan } from "../../tiers/plan/schema.js";
import { resolveDbLocation } from "../../workloads/central/db/location.js";
import { FAIL_ON, type FailOn } from "../cycle/summary.js";

/** How much phase time a default local run aims at: the whole run then takes 60–120 s. */
export const LOCAL_PHASE_TIME_MS = 72_000;
/** The local target's defaults under the suite file, the environment and the command line. */
export const LOCAL_DEFAULTS = { tier: "stress", environments: 2, load_mode: "relative" } as const;
export { FAIL_ON, type FailOn };
export const DEFAULT_OUT_DIR = "out/local";
/** How `tiers local` runs each environment: process groups (default) or the program's pods under podman. */
export const RUNTIMES = ["processes", "containers"] as const;
export type Runtime = (typeof RUNTIMES)[number];

/** `tiers local`'s own flags, as commander gives them (the plan's flags are in `RawOptions`). */
export interface LocalFlags {
  readonly suite?: string;
  readonly out?: string;
  readonly keep?: boolean;
  readonly regionLatency?: boolean;
  readonly failOn?: string;
  readonly db?: string;
  readonly portBase?: string;
  readonly monitoring?: boolean;
  readonly runtime?: string;
}

export interface LocalOptions {
  readonly plan: CyclePlan;
  readonly outDir: string;
  readonly keep: boolean;
  readonly regionLatency: boolean;
  readonly failOn: FailOn;
  /** SQLite path or postgres:// URL of the central results database. */
  readonly db: string;
  readonly portBase?: number;
  /** Run Debian's Prometheus and Alertmanager with the generated rules (`--monitoring`). */
  readonly monitoring: boolean;
  /** @default "processes" */
  readonly runtime: Runtime;
}

/**
 * The default time scale: the one that makes the tier's phases last `LOCAL_PHASE_TIME_MS` in all
 * (stress: 6000 s of seed phases → 0.012). Computed from the tier's own plan, so `--tier ultimate`
 * without `--time-scale` also fits in a couple of minutes.
 */
function defaultTimeScale(suitePath: string | undefined, cli: RawOptions): number | undefined {
  try {
    const full = planFromSources({
      ...(suitePath !== undefined ? { suitePath } : {}),
      defaults: { ...LOCAL_DEFAULTS },
      env: process.env,
      cli: { ...cli, time_scale: "1" },
    });
    return Number((LOCAL_PHASE_TIME_MS / full.totals.phase_time_ms).toPrecision(3));
  } catch {
    return undefined; // the real compile below reports the problems
  }
}

/**
 * Resolves `tiers local`'s options: the plan (defaults < suite file < environment < command line)
 * and the runner's own flags, every problem of both reported at once (exit 3) before anything starts.
 */
export function resolveLocalOptions(
  flags: LocalFlags,
  cli: RawOptions,
  env: NodeJS.ProcessEnv = process.env,
): LocalOptions {
  const issues: ConfigIssue[] = [];
  const flag = (path: string, value: unknown, message: string, expected: string): void => {
    issues.push({ file: "command line", path, message, got: describeValue(value), expected });
  };
  const failOn = flags.failOn ?? "gate";
  if (!(FAIL_ON as readonly string[]).includes(failOn))
    flag("--fail-on", failOn, "unknown value", FAIL_ON.join(", "));
  let portBase: number | undefined;
  if (flags.portBase !== undefined) {
    portBase = Number(flags.portBase);
    if (!/^\d+$/.test(flags.portBase) || portBase < 1024 || portBase > 65_000)
      flag("--port-base", flags.portBase, "not a usable port", "an integer from 1024 to 65000");
  }
  const runtime = flags.runtime ?? "processes";
  if (!(RUNTIMES as readonly string[]).includes(runtime))
    flag("--runtime", runtime, "unknown runtime", RUNTIMES.join(" or "));
  if (runtime === "containers" && portBase !== undefined)
    flag(
      "--port-base",
      flags.portBase,
      "has no meaning with --runtime containers",
      "no --port-base (each pod has its own address)",
    );
  if (runtime === "containers" && flags.monitoring === true)
    flag(
      "--monitoring",
      true,
      "is not supported with --runtime containers yet",
      "--monitoring with the process runtime (the default)",
    );
  if (flags.out !== undefined && flags.out.trim() === "")
    flag("--out", flags.out, "empty", "a directory path");

  const timeScale = cli.time_scale ?? env.TIERS_TIME_SCALE;
  const scale = timeScale === undefined ? defaultTimeScale(flags.suite, cli) : undefined;
  let plan: CyclePlan | undefined;
  try {
    plan = planFromSources({
      ...(flags.suite !== undefined ? { suitePath: flags.suite } : {}),
      defaults: { ...LOCAL_DEFAULTS, ...(scale !== undefined ? { time_scale: scale } : {}) },
      env,
      cli,
    });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    issues.push(...error.issues);
  }
  if (issues.length > 0 || !plan) throw new ConfigError(issues);
  return {
    plan,
    outDir: resolve(flags.out ?? DEFAULT_OUT_DIR),
    keep: flags.keep ?? false,
    regionLatency: flags.regionLatency ?? false,
    failOn: failOn as FailOn,
    db: resolveDbLocation(flags.db, env),
    monitoring: flags.monitoring ?? false,
    ...(portBase !== undefined ? { portBase } : {}),
    runtime: runtime as Runtime,
  };
}
