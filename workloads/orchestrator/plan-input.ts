import { ConfigError, describeValue, formatPath, type ConfigIssue } from "../../tiers/config/issues.js";
import { MAX_PLAN_BYTES, readTextFile } from "../../tiers/config/read-file.js";
import { hashPlan } from "../../tiers/plan/hash.js";
import { CyclePlan, type PlanEnvironment } from "../../tiers/plan/schema.js";

/**
 * Checks a plan an orchestrator is given (file, trigger body, ConfigMap): the CyclePlan schema,
 * its hash against its content (a hand-edited plan is refused), and that it names this
 * environment. Every problem at once, as a ConfigError (HTTP 400, exit code 3).
 */
export function acceptPlan(
  input: unknown,
  environmentId: string,
  source: string,
): { plan: CyclePlan; environment: PlanEnvironment } {
  const parsed = CyclePlan.safeParse(input, { reportInput: true });
  if (!parsed.success) {
    const issues: ConfigIssue[] = parsed.error.issues.slice(0, 50).map((i) => ({
      file: source,
      path: formatPath(i.path),
      message: i.message,
      ...("input" in i ? { got: describeValue(i.input) } : {}),
    }));
    throw new ConfigError(
      issues,
      `invalid plan: ${parsed.error.issues.length} problem${parsed.error.issues.length === 1 ? "" : "s"}`,
    );
  }
  const plan = parsed.data;
  const issues: ConfigIssue[] = [];
  const actual = hashPlan(plan);
  if (actual !== plan.hash) {
    issues.push({
      file: source,
      path: "hash",
      message: "the plan's content does not match its hash (edited after it was compiled?)",
      got: plan.hash.slice(0, 12),
      expected: actual.slice(0, 12),
    });
  }
  const environment = plan.environments.find((e) => e.id === environmentId);
  if (!environment) {
    issues.push({
      file: source,
      path: "environments",
      message: `unknown environment: the plan has no environment ${environmentId}`,
      got: plan.environments.map((e) => e.id).join(", "),
      expected: `an environment ${environmentId}`,
    });
  }
  if (issues.length > 0) throw new ConfigError(issues, "invalid plan");
  return { plan, environment: environment! };
}

/**
 * A JSON file a command is given (a plan, a Result): a regular file within `MAX_PLAN_BYTES`, UTF-8,
 * JSON — or a ConfigError saying which of those it is not (exit 3, nothing started).
 */
export function readJsonFile(file: string, what: string): unknown {
  const read = readTextFile(file, { maxBytes: MAX_PLAN_BYTES });
  if (read.text === undefined) throw new ConfigError(read.issues, `cannot read ${file}`);
  try {
    return JSON.parse(read.text) as unknown;
  } catch (error) {
    throw new ConfigError([
      { file, path: "(file)", message: `not JSON: ${(error as Error).message}`, expected: what },
    ]);
  }
}

/** A plan file's JSON (`tiers plan --json`). */
export function readPlanJson(file: string): unknown {
  return readJsonFile(file, "a CyclePlan (tiers plan --json)");
}
