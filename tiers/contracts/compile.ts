import { z } from "zod";
import { describeValue, formatPath } from "../config/issues.js";
import type { ContractSpec, ParameterSpec, ResultSpec } from "../schema/contract.js";
import { parseInUnit, unitExample } from "./units.js";

/** A rule with numbers in the result's own unit. */
export interface NumericRule {
  readonly min?: number;
  readonly max?: number;
}

/** The validation block of a Result, exactly as seed 000's IperfValidator returns it. */
export interface Validation {
  readonly status: "passed" | "failed";
  readonly checks: Record<string, "passed" | "failed">;
}

/** A problem in a contract or in values checked against it; `path` is relative to what was checked. */
export interface ContractProblem {
  readonly path: PropertyKey[];
  readonly message: string;
  readonly got?: string;
  readonly expected?: string;
}

export interface CompiledContract {
  readonly name: string;
  readonly spec: ContractSpec;
  /** Strict: unknown parameters are refused; defaults are applied. */
  readonly parameters: z.ZodType<Record<string, unknown>>;
  /** Declared results typed and required ones present; undeclared metrics pass through. */
  readonly results: z.ZodType<Record<string, unknown>>;
  /** The contract's own rules, parsed into numbers. */
  readonly rules: Readonly<Record<string, NumericRule>>;
}

function scalarSchema(type: ParameterSpec["type"]): z.ZodType {
  switch (type) {
    case "integer":
      return z.number().int();
    case "float":
    case "number":
      return z.number().refine(Number.isFinite, { message: "must be a finite number" });
    case "string":
      return z.string();
    case "boolean":
      return z.boolean();
  }
}

function parameterSchema(spec: ParameterSpec): z.ZodType {
  let s: z.ZodType;
  if (spec.type === "integer" || spec.type === "float" || spec.type === "number") {
    let n = spec.type === "integer" ? z.number().int() : z.number();
    if (spec.range) n = n.min(spec.range[0]).max(spec.range[1]);
    s = n;
  } else if (spec.type === "string") {
    let str = z.string();
    if (spec.pattern !== undefined) str = str.regex(new RegExp(spec.pattern));
    s = str;
  } else {
    s = z.boolean();
  }
  if (spec.enum) {
    const allowed = spec.enum;
    s = s.refine((v) => allowed.includes(v as string | number), {
      params: { expected: `one of ${allowed.join(", ")}` },
      message: "not an allowed value",
    });
  }
  if (spec.default !== undefined) return s.default(spec.default as never);
  return spec.required ? s : s.optional();
}

/** Checks a contract definition beyond its schema: defaults, enums and rules must fit their specs. */
export function checkContract(spec: ContractSpec): ContractProblem[] {
  const problems: ContractProblem[] = [];
  for (const [name, p] of Object.entries(spec.parameters)) {
    if (p.default !== undefined) {
      const r = parameterSchema({ ...p, default: undefined, required: true }).safeParse(p.default);
      if (!r.success) {
        problems.push({
          path: ["parameters", name, "default"],
          message: "default does not satisfy the parameter's own type, range or pattern",
          got: describeValue(p.default),
        });
      }
    }
    for (const [i, v] of (p.enum ?? []).entries()) {
      if (!scalarSchema(p.type).safeParse(v).success) {
        problems.push({
          path: ["parameters", name, "enum", i],
          message: `enum value is not a ${p.type}`,
          got: describeValue(v),
        });
      }
    }
  }
  if (spec.duration_parameter !== undefined && !(spec.duration_parameter in spec.parameters)) {
    problems.push({
      path: ["duration_parameter"],
      message: "names no parameter of this contract",
      got: JSON.stringify(spec.duration_parameter),
      expected: `one of ${Object.keys(spec.parameters).join(", ")}`,
    });
  }
  for (const [metric, rule] of Object.entries(spec.rules ?? {})) {
    const result = spec.results[metric];
    if (!result) {
      problems.push({
        path: ["rules", metric],
        message: "rule for a result the contract does not declare",
        got: JSON.stringify(metric),
        expected: `one of ${Object.keys(spec.results).join(", ")}`,
      });
      continue;
    }
    problems.push(...checkRuleValues(rule, result, ["rules", metric]));
  }
  return problems;
}

function checkRuleValues(
  rule: { min?: number | string; max?: number | string },
  result: ResultSpec,
  path: PropertyKey[],
): ContractProblem[] {
  const problems: ContractProblem[] = [];
  for (const bound of ["min", "max"] as const) {
    const v = rule[bound];
    if (v !== undefined && parseInUnit(v, result.unit) === undefined) {
      problems.push({
        path: [...path, bound],
        message: `cannot read this as ${result.unit ?? "a number"}`,
        got: describeValue(v),
        expected: unitExample(result.unit),
      });
    }
  }
  return problems;
}

/** Compiles a contract into zod schemas and numeric rules. Call `checkContract` first. */
export function compileContract(name: string, spec: ContractSpec): CompiledContract {
  const params = z.strictObject(
    Object.fromEntries(Object.entries(spec.parameters).map(([k, p]) => [k, parameterSchema(p)])),
  );
  const results = z.looseObject(
    Object.fromEntries(
      Object.entries(spec.results).map(([k, r]) => [
        k,
        r.required ? scalarSchema(r.type) : scalarSchema(r.type).optional(),
      ]),
    ),
  );
  const rules: Record<string, NumericRule> = {};
  for (const [metric, rule] of Object.entries(spec.rules ?? {})) {
    const unit = spec.results[metric]?.unit;
    const min = rule.min === undefined ? undefined : parseInUnit(rule.min, unit);
    const max = rule.max === undefined ? undefined : parseInUnit(rule.max, unit);
    rules[metric] = { ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) };
  }
  return {
    name,
    spec,
    parameters: params,
    results: results,
    rules,
  };
}

/**
 * Merges a test's `validation` block (`min_bandwidth: "900M"`) over the contract's rules. A test
 * bound replaces the contract's bound of the same side; the other side is kept.
 */
export function mergeTestValidation(
  contract: CompiledContract,
  validation: Readonly<Record<string, number | string>> | undefined,
): { rules: Record<string, NumericRule>; problems: ContractProblem[] } {
  const rules: Record<string, NumericRule> = { ...contract.rules };
  const problems: ContractProblem[] = [];
  for (const [key, value] of Object.entries(validation ?? {})) {
    const m = /^(min|max)_(.+)$/.exec(key);
    const side = m?.[1] as "min" | "max" | undefined;
    const metric = m?.[2];
    const result = metric ? contract.spec.results[metric] : undefined;
    if (!side || !metric || !result) {
      problems.push({
        path: [key],
        message: `names no result of contract ${contract.name}`,
        got: JSON.stringify(key),
        expected: `min_ or max_ followed by one of ${Object.keys(contract.spec.results).join(", ")}`,
      });
      continue;
    }
    const n = parseInUnit(value, result.unit);
    if (n === undefined) {
      problems.push({
        path: [key],
        message: `cannot read this as ${result.unit ?? "a number"}`,
        got: describeValue(value),
        expected: unitExample(result.unit),
      });
      continue;
    }
    rules[metric] = { ...rules[metric], [side]: n };
  }
  return { rules, problems };
}

/** Validates parameters against the contract; returns them with defaults applied. */
export function validateParameters(
  contract: CompiledContract,
  parameters: unknown,
): { value?: Record<string, unknown>; problems: ContractProblem[] } {
  const r = contract.parameters.safeParse(parameters ?? {}, { reportInput: true });
  if (r.success) return { value: r.data, problems: [] };
  return { problems: r.error.issues.flatMap((i) => problemsOf(i, Object.keys(contract.spec.parameters))) };
}

/** Validates a tool's metrics against the contract's declared results (types, required ones). */
export function validateResults(contract: CompiledContract, metrics: unknown): ContractProblem[] {
  const r = contract.results.safeParse(metrics, { reportInput: true });
  return r.success ? [] : r.error.issues.flatMap((i) => problemsOf(i, Object.keys(contract.spec.results)));
}

function problemsOf(issue: z.core.$ZodIssue, known: string[]): ContractProblem[] {
  const input = (issue as { input?: unknown }).input;
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((k) => ({
      path: [...issue.path, k],
      message: "unknown parameter",
      got: JSON.stringify(k),
      expected: `one of ${known.join(", ")}`,
    }));
  }
  if (issue.code === "invalid_type" && input === undefined) {
    return [{ path: issue.path, message: "is required", expected: `a ${issue.expected}` }];
  }
  if (issue.code === "invalid_type") {
    return [
      { path: issue.path, message: "wrong type", got: describeValue(input), expected: `a ${issue.expected}` },
    ];
  }
  if (issue.code === "too_small" || issue.code === "too_big") {
    const bound = issue.code === "too_small" ? issue.minimum : issue.maximum;
    return [
      {
        path: issue.path,
        message: "out of range",
        got: describeValue(input),
        expected: `a value ${issue.code === "too_small" ? ">=" : "<="} ${String(bound)}`,
      },
    ];
  }
  if (issue.code === "invalid_format") {
    return [
      {
        path: issue.path,
        message: "does not match the pattern",
        got: describeValue(input),
        expected: `a string matching ${(issue as { pattern?: string }).pattern ?? "the pattern"}`,
      },
    ];
  }
  const params = (issue as { params?: { expected?: string } }).params;
  return [
    {
      path: issue.path,
      message: issue.message,
      got: describeValue(input),
      ...(params?.expected ? { expected: params.expected } : {}),
    },
  ];
}

/**
 * Applies min/max rules to metrics: seed 000's IperfValidator, rule for rule. A metric the tool did
 * not report is skipped; each checked metric yields `<metric>_check: passed|failed`; any failure
 * fails the whole block.
 */
export function applyRules(
  rules: Readonly<Record<string, NumericRule>>,
  metrics: Readonly<Record<string, unknown>>,
): Validation {
  const checks: Record<string, "passed" | "failed"> = {};
  let status: Validation["status"] = "passed";
  for (const [metric, rule] of Object.entries(rules)) {
    if (!(metric in metrics)) continue;
    const value = metrics[metric];
    let check: "passed" | "failed" = "passed";
    if (typeof value !== "number" || Number.isNaN(value)) check = "failed";
    else {
      if (rule.min !== undefined && value < rule.min) check = "failed";
      if (rule.max !== undefined && value > rule.max) check = "failed";
    }
    checks[`${metric}_check`] = check;
    if (check === "failed") status = "failed";
  }
  return { status, checks };
}

/** `parameters.duration` style path for messages. */
export function problemPath(prefix: readonly PropertyKey[], p: ContractProblem): string {
  return formatPath([...prefix, ...p.path]);
}
