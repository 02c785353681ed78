import type { Catalog } from "../../tiers/catalog.js";
import { ConfigError, type ConfigIssue, type IssueCollector } from "../../tiers/config/issues.js";
import type { YamlSource } from "../../tiers/config/yaml-source.js";
import { compilePlan } from "../../tiers/plan/compile.js";
import {
  DEFAULT_MAX_CONNECTIONS,
  type OptionOrigin,
  type ResolvedOptions,
} from "../../tiers/plan/options.js";
import type { CyclePlan } from "../../tiers/plan/schema.js";
import type { LoadedSuiteFile } from "../../tiers/plan/suite-file.js";
import { key } from "./schema.js";
import type { StackSettings } from "./validate.js";

const ENVIRONMENTS = key("environments");

/** What a runner may change in the stack's plan without changing the stack (`tiers run --time-scale`). */
export interface StackPlanOptions {
  /** @default 1 (the seed's durations: what the deployed orchestrators hold as their plan) */
  readonly timeScale?: number;
}

/**
 * The tier's CyclePlan, compiled by `tiers/` from the stack's tier, regions and environments: so
 * region codes, roles, environment ids and placement are exactly the ones `tiers plan` shows. The
 * plan's problems are reported at the stack file's keys. Returns `undefined` after adding issues.
 */
export function compileStackPlan(
  source: YamlSource,
  settings: StackSettings,
  catalog: Catalog,
  issues: IssueCollector,
  planOptions: StackPlanOptions = {},
): CyclePlan | undefined {
  const cfg = settings.config;
  const envs = cfg[ENVIRONMENTS];
  const regions = cfg[key("regions")];
  const origin = (k: string): OptionOrigin => ({ ...source.positionOf([k]), path: k });
  const resolved: ResolvedOptions = {
    options: {
      tier: cfg[key("tier")],
      time_scale: planOptions.timeScale ?? 1,
      load_mode: "absolute",
      load_scale: 1,
      seed: 1,
      max_connections: DEFAULT_MAX_CONNECTIONS.absolute,
      ...(typeof envs === "number" ? { environments: envs } : {}),
      ...(regions ? { regions } : {}),
    },
    origins: {
      tier: origin(key("tier")),
      regions: origin(key("regions")),
      environments: origin(ENVIRONMENTS),
    },
  };
  // The stack's environments, seen by the plan compiler as a suite file's `environments:`.
  const suiteFile: LoadedSuiteFile = {
    file: source.file,
    source: {
      file: source.file,
      data: { environments: typeof envs === "object" ? envs : undefined },
      positionOf: (path, options) =>
        source.positionOf(path[0] === "environments" ? [ENVIRONMENTS, ...path.slice(1)] : path, options),
    },
    content: typeof envs === "object" ? { environments: envs } : {},
  };
  try {
    return compilePlan({ resolved, suiteFile, catalog });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    issues.addAll(error.issues.map((i) => atStackKey(i, source.file)));
    return undefined;
  }
}

/** The compiler names the stack's environments `environments.…`; in the stack file they are `test-tiers:environments.…`. */
function atStackKey(issue: ConfigIssue, file: string): ConfigIssue {
  if (issue.file !== file || !/^environments([.[]|$)/.test(issue.path)) return issue;
  return { ...issue, path: `${ENVIRONMENTS}${issue.path.slice("environments".length)}` };
}
