import { join } from "node:path";
import { loadCatalog } from "../../../tiers/catalog.js";
import { compileContract, type NumericRule } from "../../../tiers/contracts/compile.js";
import type { PlanTest } from "../../../tiers/plan/schema.js";
import type { ToolName } from "../../../tiers/schema/names.js";
import type { RunContext } from "../../../workloads/orchestrator/adapters/adapter.js";
import { Result } from "../../../workloads/shared/result.js";

export { scratchDir } from "./scratch.js";

/** A run context in a fresh scratch directory (raw outputs in `<dir>/raw`). */
export function runContext(dir: string, overrides: Partial<RunContext> = {}): RunContext {
  return {
    cycleId: "cycle-test",
    environment: "env-test",
    phase: "baseline",
    rawDir: join(dir, "raw"),
    scratchDir: dir,
    ...overrides,
  };
}

/** A plan test as the plan compiler writes it: the contract's own rules unless `rules` replaces them. */
export function planTest(
  tool: ToolName,
  contract: string,
  parameters: Record<string, unknown>,
  options: { rules?: Record<string, NumericRule>; timeoutMs?: number; name?: string } = {},
): PlanTest {
  const name = options.name ?? `${tool}_test`;
  return {
    id: `baseline/${name}`,
    name,
    tool,
    contract,
    parameters,
    rules: options.rules ?? contractRules(contract),
    timeout_ms: options.timeoutMs ?? 60_000,
  };
}

/** Parses with the shared Result schema: every Result the runner returns must pass. */
export function validResult(value: unknown): Result {
  return Result.parse(value);
}

/** The rules of a catalog contract, in numbers (what the plan compiler puts in a test without `validation`). */
export function contractRules(contract: string): Record<string, NumericRule> {
  const spec = loadCatalog().contracts[contract];
  return spec ? { ...compileContract(contract, spec).rules } : {};
}
