import { randomUUID } from "node:crypto";
import {
  compileContract,
  validateParameters,
  type CompiledContract,
} from "../../../tiers/contracts/compile.js";
import type { PlanTest } from "../../../tiers/plan/schema.js";
import type { ContractSpec } from "../../../tiers/schema/contract.js";
import type { Result } from "../../shared/result.js";
import type { RawOutput, RunContext, ToolAdapter } from "./adapter.js";
import { describeProblem, evaluateOutput } from "./evaluate.js";
import { abortReason, decode, executeInProcess, executeProcess, type ExecuteOptions } from "./execute.js";
import { writeRawOutput } from "./raw-output.js";
import { assembleResult, early, type Outcome } from "./result.js";
import { createAdapter } from "./registry.js";

/**
 * Runs one test of a plan and returns its Result — always, whatever happens: contract check of
 * the parameters → is the tool installed, which version → prepare → execute (timeout and
 * cancellation stop the whole process tree) → keep the raw output → parse → contract check of the
 * output → rules → Result (validated against its schema). Nothing here throws to the caller.
 */

export interface RunTestOptions extends ExecuteOptions {
  /** Use this adapter instead of the registry's (tests, benchmarks). */
  readonly adapter?: ToolAdapter;
}

const compiled = new WeakMap<ContractSpec, CompiledContract>();
function compiledContract(name: string, spec: ContractSpec): CompiledContract {
  let c = compiled.get(spec);
  if (!c) {
    c = compileContract(name, spec);
    compiled.set(spec, c);
  }
  return c;
}

async function runSteps(
  resultId: string,
  test: PlanTest,
  contracts: Readonly<Record<string, ContractSpec>>,
  ctx: RunContext,
  options: RunTestOptions,
): Promise<Outcome> {
  const spec = Object.hasOwn(contracts, test.contract) ? contracts[test.contract] : undefined;
  if (!spec) return early("invalid", `contract ${test.contract} is not in the plan`, { ...test.parameters });
  const contract = compiledContract(test.contract, spec);
  const checked = validateParameters(contract, test.parameters);
  if (!checked.value) {
    const reason = `parameters break contract ${test.contract}: ${checked.problems.map(describeProblem).join("; ")}`;
    return early("invalid", reason, { ...test.parameters });
  }
  const params = checked.value;
  const adapter = options.adapter ?? createAdapter(test.tool, ctx.tools);
  const own = adapter.checkParameters?.(params) ?? [];
  if (own.length > 0)
    return early("invalid", `parameters rejected by the ${adapter.tool} adapter: ${own.join("; ")}`, params);
  if (ctx.signal?.aborted) {
    const why = abortReason(ctx.signal);
    return early("failed", `cancelled before it started${why ? `: ${why}` : ""}`, params);
  }

  const ran =
    adapter.kind === "process"
      ? await executeProcess(adapter, test, params, ctx, options)
      : await executeInProcess(adapter, test, params, ctx);
  if ("status" in ran) return ran;

  const kept = await writeRawOutput(ctx.rawDir, resultId, ran.bytes);
  const raw: RawOutput = {
    stdout: decode(ran.bytes.stdout),
    stderr: decode(ran.bytes.stderr),
    exitCode: ran.end.exitCode,
    files: Object.fromEntries(Object.entries(ran.bytes.files).map(([k, v]) => [k, decode(v)])),
  };
  const evaluation = evaluateOutput(adapter, contract, test.rules, params, raw, ran.end);
  return {
    ...evaluation,
    errors: [...evaluation.errors, ...kept.problems],
    version: ran.version,
    parameters: params,
    raw: kept.raw,
    exitCode: ran.end.exitCode,
  };
}

/** Runs `test` in `ctx` and returns its Result. Never throws. */
export async function runTest(
  test: PlanTest,
  contracts: Readonly<Record<string, ContractSpec>>,
  ctx: RunContext,
  options: RunTestOptions = {},
): Promise<Result> {
  const resultId = randomUUID();
  const startedAt = new Date();
  const t0 = performance.now();
  let outcome: Outcome;
  try {
    outcome = await runSteps(resultId, test, contracts, ctx, options);
  } catch (error) {
    outcome = early("failed", `internal error: ${(error as Error).message}`, { ...test.parameters });
  }
  return assembleResult({ resultId, test, ctx, outcome, startedAt, durationMs: performance.now() - t0 });
}
