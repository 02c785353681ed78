import {
  applyRules,
  validateResults,
  type CompiledContract,
  type ContractProblem,
  type NumericRule,
  type Validation,
} from "../../../tiers/contracts/compile.js";
import { formatPath } from "../../../tiers/config/issues.js";
import type { MetricValue, ResultStatus } from "../../shared/result.js";
import type { EndedBy } from "../process/spawn.js";
import type { Params, ParseOutcome, RawOutput, ToolAdapter } from "./adapter.js";
import { telltaleLine, type Metrics } from "./output.js";

/**
 * From a tool's raw output to a verdict: parse, check the output against the contract's results,
 * apply the rules (seed 000's IperfValidator). Pure: the runner and the parse benchmark share it.
 */

/** How the tool's run ended. */
export interface RunEnd {
  readonly endedBy: EndedBy;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly timeoutMs: number;
  /** Why it was cancelled (the abort reason). */
  readonly cancelReason?: string;
  readonly spawnError?: string;
  readonly maxOutputBytes?: number;
}

export interface Evaluation {
  readonly status: ResultStatus;
  readonly reason?: string;
  readonly metrics: Record<string, MetricValue>;
  readonly validation: Validation;
  readonly errors: string[];
}

/** The validation block of a Result whose metrics were never checked: nothing passed. */
export const NOT_VALIDATED: Validation = Object.freeze({ status: "failed", checks: {} });

function round(n: number): number {
  return Number(n.toPrecision(6));
}

function describeBounds(rule: NumericRule | undefined): string {
  const parts: string[] = [];
  if (rule?.min !== undefined) parts.push(`>= ${round(rule.min)}`);
  if (rule?.max !== undefined) parts.push(`<= ${round(rule.max)}`);
  return parts.join(" and ");
}

/** `path: message (got X, expected Y)`, the project's message shape. */
export function describeProblem(p: ContractProblem): string {
  const extra = [
    p.got !== undefined ? `got ${p.got}` : "",
    p.expected !== undefined ? `expected ${p.expected}` : "",
  ]
    .filter(Boolean)
    .join(", ");
  return `${formatPath(p.path)}: ${p.message}${extra ? ` (${extra})` : ""}`;
}

function safeParse(
  adapter: ToolAdapter,
  raw: RawOutput,
  params: Params,
  contract: CompiledContract,
): ParseOutcome {
  try {
    return adapter.parse(raw, params, contract.spec);
  } catch (error) {
    return { ok: false, problem: `output could not be read: ${(error as Error).message}` };
  }
}

function withUnits(
  metrics: Metrics,
  adapter: ToolAdapter,
  contract: CompiledContract,
): Record<string, MetricValue> {
  const out: Record<string, MetricValue> = {};
  for (const [name, value] of Object.entries(metrics)) {
    if (typeof value === "number" && !Number.isFinite(value)) continue;
    const unit = contract.spec.results[name]?.unit ?? adapter.units[name];
    out[name] = unit === undefined ? { value } : { value, unit };
  }
  return out;
}

/** Why the run did not end by itself, or undefined when it did. */
function abnormalEnd(
  end: RunEnd,
  adapter: ToolAdapter,
): { status: ResultStatus; reason: string } | undefined {
  const tool = adapter.tool;
  switch (end.endedBy) {
    case "timeout":
      return {
        status: "failed",
        reason: `timed out after ${end.timeoutMs} ms; ${adapter.kind === "process" ? "the tool's process tree" : "the run"} was stopped`,
      };
    case "cancel":
      return { status: "failed", reason: `cancelled${end.cancelReason ? `: ${end.cancelReason}` : ""}` };
    case "output_limit":
      return {
        status: "invalid",
        reason: `output exceeded ${Math.round((end.maxOutputBytes ?? 0) / 1024 / 1024)} MiB; the tool was stopped`,
      };
    case "spawn_error":
      return { status: "failed", reason: `could not start ${tool}: ${end.spawnError ?? "unknown error"}` };
    case "exit":
      return undefined;
  }
}

export function evaluateOutput(
  adapter: ToolAdapter,
  contract: CompiledContract,
  rules: Readonly<Record<string, NumericRule>>,
  params: Params,
  raw: RawOutput,
  end: RunEnd,
): Evaluation {
  const errors: string[] = [];
  const abnormal = abnormalEnd(end, adapter);
  if (abnormal && end.endedBy !== "timeout" && end.endedBy !== "cancel") {
    return { ...abnormal, metrics: {}, validation: NOT_VALIDATED, errors: [abnormal.reason] };
  }
  const outcome = safeParse(adapter, raw, params, contract);
  let metrics: Record<string, MetricValue> = {};
  let validation: Validation = NOT_VALIDATED;
  let schemaProblems: string[] = [];
  if (outcome.ok) {
    schemaProblems = validateResults(contract, outcome.metrics).map(describeProblem);
    if (schemaProblems.length === 0) {
      metrics = withUnits(outcome.metrics, adapter, contract);
      validation = applyRules(rules, outcome.metrics);
    }
  }
  const stderrLine = telltaleLine(raw.stderr);
  if (abnormal) {
    errors.push(abnormal.reason);
    return { ...abnormal, metrics, validation, errors };
  }
  if (raw.exitCode !== 0) {
    const how =
      adapter.kind === "in-process"
        ? `could not run${stderrLine ? `: ${stderrLine}` : ""}`
        : raw.exitCode === null
          ? `was killed by ${end.signal ?? "a signal"}`
          : `exited with code ${raw.exitCode}${stderrLine ? `: ${stderrLine}` : ""}`;
    const reason = outcome.ok && outcome.toolError ? outcome.toolError : `${adapter.tool} ${how}`;
    errors.push(reason);
    if (!outcome.ok) errors.push(outcome.problem);
    return { status: "failed", reason, metrics, validation, errors };
  }
  if (!outcome.ok) {
    errors.push(outcome.problem);
    if (stderrLine) errors.push(`stderr: ${stderrLine}`);
    return { status: "invalid", reason: outcome.problem, metrics: {}, validation: NOT_VALIDATED, errors };
  }
  if (outcome.toolError) {
    errors.push(outcome.toolError);
    return { status: "failed", reason: outcome.toolError, metrics, validation, errors };
  }
  if (schemaProblems.length > 0) {
    const reason = `output breaks contract ${contract.name}: ${schemaProblems.join("; ")}`;
    return { status: "invalid", reason, metrics: {}, validation: NOT_VALIDATED, errors: [reason] };
  }
  if (validation.status === "failed") {
    const failed = Object.entries(validation.checks)
      .filter(([, v]) => v === "failed")
      .map(([check]) => {
        const metric = check.replace(/_check$/, "");
        const m = metrics[metric];
        const got = m
          ? `${typeof m.value === "number" ? round(m.value) : String(m.value)}${m.unit ? ` ${m.unit}` : ""}`
          : "?";
        return `${check} (got ${got}, expected ${describeBounds(rules[metric])})`;
      });
    const reason = `contract rules failed: ${failed.join("; ")}`;
    return { status: "failed", reason, metrics, validation, errors: [reason] };
  }
  return { status: "passed", metrics, validation, errors };
}
