import type { z } from "zod";
import { describeValue, IssueCollector, type ConfigIssue } from "../config/issues.js";
import type { YamlSource } from "../config/yaml-source.js";
import { TIER_NAMES, type TierName } from "../schema/names.js";
import { LOAD_MODES, PlanOptionsSpec, type LoadMode } from "../schema/suite.js";

/** Options of a plan after layering defaults < file < environment < command line. */
export interface PlanOptions {
  readonly tier: TierName;
  readonly suite?: string;
  readonly time_scale: number;
  readonly load_mode: LoadMode;
  readonly load_scale: number;
  readonly seed: number;
  readonly max_connections: number;
  readonly environments?: number;
  readonly regions?: readonly string[];
}

export type PlanOptionKey = keyof PlanOptions;

/** Where an option's value came from, so a later problem with it can be reported at its origin. */
export interface OptionOrigin {
  readonly file: string;
  readonly line?: number;
  readonly col?: number;
  readonly path: string;
}

interface OptionDef {
  readonly cli: string;
  readonly env: string;
  readonly kind: "number" | "integer" | "string" | "list";
}

/** Every plan option, its command-line flag and its environment variable. Documented in README.md. */
export const PLAN_OPTION_DEFS: Readonly<Record<PlanOptionKey, OptionDef>> = {
  tier: { cli: "<tier>", env: "TIERS_TIER", kind: "string" },
  suite: { cli: "--suite-name", env: "TIERS_SUITE_NAME", kind: "string" },
  time_scale: { cli: "--time-scale", env: "TIERS_TIME_SCALE", kind: "number" },
  load_mode: { cli: "--load-mode", env: "TIERS_LOAD_MODE", kind: "string" },
  load_scale: { cli: "--load-scale", env: "TIERS_LOAD_SCALE", kind: "number" },
  seed: { cli: "--seed", env: "TIERS_SEED", kind: "integer" },
  max_connections: { cli: "--max-connections", env: "TIERS_MAX_CONNECTIONS", kind: "integer" },
  environments: { cli: "--environments", env: "TIERS_ENVIRONMENTS", kind: "integer" },
  regions: { cli: "--regions", env: "TIERS_REGIONS", kind: "list" },
};

/** Raw values as strings, the way a command line or the environment gives them. */
export type RawOptions = Partial<Record<PlanOptionKey, string>>;

export interface OptionLayers {
  /** Defaults of the caller (the local target defaults to relative load, `tiers plan` to absolute). */
  readonly defaults: Partial<PlanOptions>;
  /** `options:` of a suite file, with its source for positions. */
  readonly file?: { readonly source: YamlSource; readonly options: z.infer<typeof PlanOptionsSpec> };
  readonly env?: NodeJS.ProcessEnv;
  readonly cli?: RawOptions;
}

export interface ResolvedOptions {
  readonly options: PlanOptions;
  readonly origins: Readonly<Partial<Record<PlanOptionKey, OptionOrigin>>>;
  /**
   * Problems with values that were refused (the previous layer's value stands in for them), so
   * the compiler can report them together with its own. Empty when every value was accepted.
   */
  readonly issues?: readonly ConfigIssue[];
}

/** Built-in defaults under every caller's. */
export const BASE_DEFAULTS = {
  time_scale: 1,
  load_mode: "absolute",
  load_scale: 1,
  seed: 1,
} as const satisfies Partial<PlanOptions>;

/** The connection cap in each load mode when none is given (seed's extreme phase; a laptop's share). */
export const DEFAULT_MAX_CONNECTIONS: Readonly<Record<LoadMode, number>> = { absolute: 10_000, relative: 64 };

/**
 * Layers defaults < file < environment < command line in one function (k6's
 * getConsolidatedConfig) and validates each value where it was given, so every problem names its
 * origin. A refused value leaves the lower layer's value in place and is returned in `issues`, so
 * the compiler goes on and reports everything at once; only a missing tier stops here.
 */
export function resolvePlanOptions(layers: OptionLayers): ResolvedOptions {
  const issues = new IssueCollector();
  const values: Partial<Record<PlanOptionKey, unknown>> = { ...BASE_DEFAULTS, ...layers.defaults };
  const origins: Partial<Record<PlanOptionKey, OptionOrigin>> = {};
  for (const key of Object.keys(values) as PlanOptionKey[]) origins[key] = { file: "defaults", path: key };

  if (layers.file) {
    for (const [key, value] of Object.entries(layers.file.options) as [PlanOptionKey, unknown][]) {
      if (value === undefined) continue;
      values[key] = value;
      origins[key] = { ...layers.file.source.positionOf(["options", key]), path: `options.${key}` };
    }
  }
  let tierRefused = false;
  const takeRaw = (raw: string | undefined, key: PlanOptionKey, origin: OptionOrigin): void => {
    if (raw === undefined) return;
    if (key === "tier") tierRefused = true;
    const parsed = parseRaw(raw, PLAN_OPTION_DEFS[key].kind);
    if (parsed === undefined) {
      issues.add({
        ...origin,
        message: "cannot read this value",
        got: JSON.stringify(raw),
        expected: expectedOf(key),
      });
      return;
    }
    const check = PlanOptionsSpec.shape[key].safeParse(parsed);
    if (!check.success) {
      issues.add({
        ...origin,
        message: "not a valid value",
        got: describeValue(parsed),
        expected: expectedOf(key),
      });
      return;
    }
    values[key] = check.data;
    origins[key] = origin;
    if (key === "tier") tierRefused = false;
  };
  for (const key of Object.keys(PLAN_OPTION_DEFS) as PlanOptionKey[]) {
    const def = PLAN_OPTION_DEFS[key];
    takeRaw(layers.env?.[def.env], key, { file: "environment", path: def.env });
  }
  for (const key of Object.keys(PLAN_OPTION_DEFS) as PlanOptionKey[]) {
    takeRaw(layers.cli?.[key], key, { file: "command line", path: PLAN_OPTION_DEFS[key].cli });
  }
  if (values.tier === undefined) {
    if (!tierRefused) {
      issues.add({
        file: "command line",
        path: "<tier>",
        message: "no tier given",
        expected: `one of ${TIER_NAMES.join(", ")}`,
      });
    }
    issues.throwIfAny();
  }

  const loadMode = values.load_mode as LoadMode;
  if (values.max_connections === undefined) {
    values.max_connections = DEFAULT_MAX_CONNECTIONS[loadMode];
    origins.max_connections = { file: "defaults", path: "max_connections" };
  }
  return { options: values as unknown as PlanOptions, origins, issues: issues.issues };
}

function parseRaw(raw: string, kind: OptionDef["kind"]): unknown {
  const text = raw.trim();
  switch (kind) {
    case "string":
      return text === "" ? undefined : text;
    case "number": {
      if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(text)) return undefined;
      return Number(text);
    }
    case "integer":
      return /^[+-]?\d+$/.test(text) ? Number(text) : undefined;
    case "list": {
      const items = text.split(",").map((s) => s.trim());
      return items.some((s) => s === "") ? undefined : items;
    }
  }
}

function expectedOf(key: PlanOptionKey): string {
  switch (key) {
    case "tier":
      return `one of ${TIER_NAMES.join(", ")}`;
    case "load_mode":
      return `one of ${LOAD_MODES.join(", ")}`;
    case "time_scale":
      return "a number > 0 and <= 100";
    case "load_scale":
      return "a number > 0 and <= 1000";
    case "seed":
      return "an integer from 0 to 2147483647";
    case "max_connections":
      return "an integer from 1 to 100000";
    case "environments":
      return "an integer from 1 to 64";
    case "regions":
      return "a comma-separated list of region codes";
    case "suite":
      return "a suite id of the suite file";
  }
}

/** Issue at an option's origin. */
export function issueAtOption(
  origins: ResolvedOptions["origins"],
  key: PlanOptionKey,
  issue: Omit<ConfigIssue, "file" | "path" | "line" | "col">,
): ConfigIssue {
  const o = origins[key] ?? { file: "defaults", path: key };
  return { ...o, ...issue };
}
