import type { PlanTest } from "../../../tiers/plan/schema.js";
import { Result, type ResultStatus } from "../../shared/result.js";
import type { RunContext } from "./adapter.js";
import { jsonValueProblem, storable } from "../../bundle/json-check.js";
import { DEFAULT_BUNDLE_LIMITS, FORMAT_BOUNDS } from "../../bundle/limits.js";
import { NOT_VALIDATED, type Evaluation } from "./evaluate.js";

/** What the bundle writer would refuse in a valid Result (json-check.ts, the line and integer bounds). */
function bundleProblem(r: Result): string | undefined {
  const problem = jsonValueProblem(r);
  if (problem) return problem;
  if (Buffer.byteLength(JSON.stringify(r)) > DEFAULT_BUNDLE_LIMITS.maxLineBytes)
    return `it is longer than ${DEFAULT_BUNDLE_LIMITS.maxLineBytes} bytes as one line`;
  for (const [field, n] of [
    ["exit_code", r.exit_code],
    ["attempt", r.attempt],
  ] as const)
    if (n !== null && (n < FORMAT_BOUNDS.minInt32 || n > FORMAT_BOUNDS.maxInt32))
      return `${field} ${n} does not fit 32 bits`;
  return undefined;
}

/**
 * Assembling a Result from a verdict: every field the shared schema asks for, checked against it.
 * A candidate that does not validate (a bug) still yields a Result — `failed`, saying why — so no
 * run is ever lost.
 */

/** A Result's verdict and what the run left, before the Result is assembled. */
export interface Outcome extends Evaluation {
  readonly version: string | null;
  readonly parameters: Record<string, unknown>;
  readonly raw: Result["raw"];
  readonly exitCode: number | null;
}

/** A verdict reached before (or instead of) running the tool. */
export function early(
  status: ResultStatus,
  reason: string,
  parameters: Record<string, unknown>,
  version: string | null = null,
): Outcome {
  return {
    status,
    reason,
    metrics: {},
    validation: NOT_VALIDATED,
    errors: [reason],
    version,
    parameters,
    raw: {},
    exitCode: null,
  };
}

export interface ResultInput {
  readonly resultId: string;
  readonly test: Pick<PlanTest, "id" | "name" | "tool" | "contract">;
  readonly ctx: Pick<RunContext, "cycleId" | "environment" | "phase" | "attempt">;
  readonly outcome: Outcome;
  readonly startedAt: Date;
  readonly durationMs: number;
}

export function assembleResult({ resultId, test, ctx, outcome, startedAt, durationMs }: ResultInput): Result {
  const candidate: Result = {
    result_id: resultId,
    test_id: test.id,
    test_name: test.name,
    cycle_id: ctx.cycleId,
    environment: ctx.environment,
    phase: ctx.phase,
    tool: { name: test.tool, version: outcome.version },
    contract: test.contract,
    parameters: outcome.parameters,
    metrics: outcome.metrics,
    validation: outcome.validation,
    status: outcome.status,
    ...(outcome.reason !== undefined ? { reason: outcome.reason } : {}),
    errors: outcome.errors,
    raw: outcome.raw,
    timings: {
      started_at: startedAt.toISOString(),
      ended_at: new Date(startedAt.getTime() + durationMs).toISOString(),
      duration_ms: durationMs,
    },
    exit_code: outcome.exitCode,
    attempt: ctx.attempt ?? 1,
  };
  // Tool output may hold NUL or broken text; the Result carries a readable copy (raw/ keeps the bytes).
  const checked = Result.safeParse(storable(candidate));
  const problem = checked.success ? bundleProblem(checked.data) : undefined;
  if (checked.success && problem === undefined) return checked.data;
  const reason = checked.success
    ? `internal error: the Result cannot go into a bundle: ${problem}`
    : `internal error: the Result did not validate: ${checked.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join(".")}: ${i.message}`)
        .join("; ")}`;
  return Result.parse({
    ...candidate,
    tool: { name: test.tool, version: null },
    parameters: {},
    metrics: {},
    validation: NOT_VALIDATED,
    status: "failed",
    reason,
    errors: [reason],
  });
}
