import {
  checkContract,
  compileContract,
  mergeTestValidation,
  validateParameters,
  type CompiledContract,
  type NumericRule,
} from "../contracts/compile.js";
import type { ContractSpec } from "../schema/contract.js";
import type { PhaseName, ToolName } from "../schema/names.js";
import type { SuiteSpec } from "../schema/suite.js";
import { suiteIssue, type CompileContext } from "./context.js";

/** A suite test after its contract and parameters were checked; phases filtered later. */
export interface CheckedTest {
  readonly name: string;
  readonly tool: ToolName;
  readonly contract: string;
  readonly phases: readonly PhaseName[] | undefined;
  readonly parameters: Record<string, unknown>;
  readonly rules: Record<string, NumericRule>;
  readonly timeout_ms: number;
  readonly duration_ms: number | undefined;
}

/** Time a test may take beyond the run time it asks for before it is cancelled. */
const TIMEOUT_GRACE_MS = 30_000;
/** Timeout of a test whose contract does not say how long it runs. */
const DEFAULT_TIMEOUT_MS = 300_000;

/**
 * The contracts a plan may use: the catalog's plus the suite file's own. A file may add
 * contracts, not redefine the catalog's (a test's `validation` block tightens a catalog contract).
 */
export function resolveContracts(ctx: CompileContext): Map<string, CompiledContract> {
  const contracts = new Map<string, CompiledContract>();
  for (const [name, spec] of Object.entries(ctx.catalog.contracts))
    contracts.set(name, compileContract(name, spec));
  for (const [name, spec] of Object.entries(ctx.suiteFile.content.contracts ?? {})) {
    const path = ["contracts", name];
    if (contracts.has(name) && !ctx.suiteFile.file.startsWith(ctx.catalog.dir)) {
      ctx.issues.add(
        suiteIssue(
          ctx,
          path,
          {
            message: "the catalog already defines this contract",
            got: JSON.stringify(name),
            expected: "a new contract name (tighten a catalog contract with a test's validation block)",
          },
          { key: true },
        ),
      );
      continue;
    }
    const problems = checkContract(spec);
    for (const p of problems) ctx.issues.add(suiteIssue(ctx, [...path, ...p.path], p));
    if (problems.length === 0) contracts.set(name, compileContract(name, spec));
  }
  return contracts;
}

/** Checks every test of the suite against its tool and contract; returns the ones that hold. */
export function checkTests(
  ctx: CompileContext,
  suiteId: string,
  suite: SuiteSpec,
  contracts: ReadonlyMap<string, CompiledContract>,
): CheckedTest[] {
  const out: CheckedTest[] = [];
  const seen = new Set<string>();
  suite.tests.forEach((test, i) => {
    const path = ["test_suites", suiteId, "tests", i];
    if (seen.has(test.name)) {
      ctx.issues.add(
        suiteIssue(ctx, [...path, "name"], {
          message: "duplicate test name in this suite",
          got: JSON.stringify(test.name),
          expected: "a name no other test of the suite has",
        }),
      );
      return;
    }
    seen.add(test.name);
    const contractName = test.contract ?? ctx.catalog.tools[test.tool].default_contract;
    if (contractName === null) {
      ctx.issues.add(
        suiteIssue(ctx, path, {
          message: `tool ${test.tool} needs a contract that says which fields are metrics`,
          expected: "a contract: key naming a contract of the suite file",
        }),
      );
      return;
    }
    const contract = contracts.get(contractName);
    if (!contract) {
      ctx.issues.add(
        suiteIssue(ctx, [...path, "contract"], {
          message: "unknown contract",
          got: JSON.stringify(contractName),
          expected: `one of ${[...contracts.keys()].join(", ")}`,
        }),
      );
      return;
    }
    if (contract.spec.tool !== undefined && contract.spec.tool !== test.tool) {
      ctx.issues.add(
        suiteIssue(ctx, [...path, "contract"], {
          message: `contract ${contractName} is for tool ${contract.spec.tool}, not ${test.tool}`,
          got: JSON.stringify(contractName),
          expected: `a contract for ${test.tool}`,
        }),
      );
      return;
    }
    const params = validateParameters(contract, test.parameters);
    for (const p of params.problems) ctx.issues.add(suiteIssue(ctx, [...path, "parameters", ...p.path], p));
    const merged = mergeTestValidation(contract, test.validation);
    for (const p of merged.problems) ctx.issues.add(suiteIssue(ctx, [...path, "validation", ...p.path], p));
    if (!params.value || merged.problems.length > 0) return;

    const durationParam = contract.spec.duration_parameter;
    const durationValue = durationParam !== undefined ? params.value[durationParam] : undefined;
    const duration_ms = typeof durationValue === "number" ? Math.round(durationValue * 1000) : undefined;
    const timeout_ms =
      test.timeout_s !== undefined
        ? Math.round(test.timeout_s * 1000)
        : duration_ms !== undefined
          ? duration_ms * 2 + TIMEOUT_GRACE_MS
          : DEFAULT_TIMEOUT_MS;
    out.push({
      name: test.name,
      tool: test.tool,
      contract: contractName,
      phases: test.phases,
      parameters: params.value,
      rules: merged.rules,
      timeout_ms,
      duration_ms,
    });
  });
  return out;
}

/** The contract specs the plan's tests use, embedded in the plan. */
export function usedContracts(
  tests: readonly { readonly contract: string }[],
  contracts: ReadonlyMap<string, CompiledContract>,
  always: readonly string[],
): Record<string, ContractSpec> {
  const names = new Set([...tests.map((t) => t.contract), ...always]);
  return Object.fromEntries(
    [...names].sort().flatMap((n) => {
      const c = contracts.get(n);
      return c ? [[n, c.spec]] : [];
    }),
  );
}
