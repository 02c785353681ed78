import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadCatalog } from "../../../tiers/catalog.js";
import { compileContract, validateParameters, type NumericRule } from "../../../tiers/contracts/compile.js";
import type { ToolName } from "../../../tiers/schema/names.js";
import type { RawOutput } from "../../../workloads/orchestrator/adapters/adapter.js";
import { evaluateOutput, type Evaluation } from "../../../workloads/orchestrator/adapters/evaluate.js";
import { createAdapter } from "../../../workloads/orchestrator/adapters/registry.js";

/** Recorded tool outputs (test/fixtures/tools/<tool>/raw/<case>.*), read as the runner would. */

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "../../fixtures/tools");

export interface CaseMeta {
  readonly exit_code: number | null;
  readonly command?: string;
  readonly version?: string;
  readonly derived_from?: string;
  readonly note?: string;
  readonly operation?: string;
}

export function caseMeta(tool: string): Record<string, CaseMeta> {
  return JSON.parse(readFileSync(join(FIXTURES, tool, "cases.json"), "utf8")) as Record<string, CaseMeta>;
}

/** A recorded case as a RawOutput: stdout, stderr, the result files it wrote, its exit code. */
export function loadCase(tool: string, name: string): RawOutput {
  const meta = caseMeta(tool)[name];
  if (!meta) throw new Error(`no fixture case ${tool}/${name}`);
  const dir = join(FIXTURES, tool, "raw");
  const read = (suffix: string): string => {
    const p = join(dir, `${name}.${suffix}`);
    return existsSync(p) ? readFileSync(p, "utf8") : "";
  };
  const files: Record<string, string> = {};
  for (const f of readdirSync(dir)) {
    const rest = f.startsWith(`${name}.`) ? f.slice(name.length + 1) : undefined;
    if (rest && rest !== "stdout" && rest !== "stderr") files[rest] = readFileSync(join(dir, f), "utf8");
  }
  return { stdout: read("stdout"), stderr: read("stderr"), exitCode: meta.exit_code, files };
}

/** The built-in contract for a tool (its catalog default). */
export function builtinContract(tool: ToolName) {
  const catalog = loadCatalog();
  const name = catalog.tools[tool].default_contract!;
  return compileContract(name, catalog.contracts[name]!);
}

/**
 * Evaluates a recorded case like the runner does after a run that ended by itself: parameters
 * with the contract's defaults, the contract's own rules unless `rules` replaces them.
 */
export function evaluateCase(
  tool: ToolName,
  name: string,
  parameters: Record<string, unknown> = {},
  rules?: Record<string, NumericRule>,
): Evaluation {
  const contract = builtinContract(tool);
  const params = validateParameters(contract, parameters);
  if (!params.value) throw new Error(`bad test parameters: ${JSON.stringify(params.problems)}`);
  const raw = loadCase(tool, name);
  return evaluateOutput(createAdapter(tool), contract, rules ?? contract.rules, params.value, raw, {
    endedBy: "exit",
    exitCode: raw.exitCode,
    signal: null,
    timeoutMs: 60_000,
  });
}

/** The value of a metric in an evaluation, or undefined. */
export function metric(e: Evaluation, name: string): number | undefined {
  const v = e.metrics[name]?.value;
  return typeof v === "number" ? v : undefined;
}

/** What `<binary> <args>` says its version is, read with `pattern` (to compare with the adapter's detection). */
export function reportedVersion(binary: string, args: string[], pattern: RegExp): string {
  const out = execFileSync(binary, args).toString();
  const m = pattern.exec(out);
  if (!m?.[1]) throw new Error(`${binary} ${args.join(" ")} printed no version: ${out.slice(0, 80)}`);
  return m[1];
}

/** Walks a parsed document by keys and indexes (the test's own reading, independent of the adapters'). */
export function dig(value: unknown, ...keys: (string | number)[]): unknown {
  let current = value;
  for (const key of keys) {
    if (typeof current !== "object" || current === null) return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

/** A number in a parsed document; throws (failing the test) when it is not one. */
export function num(value: unknown, ...keys: (string | number)[]): number {
  const v = dig(value, ...keys);
  if (typeof v !== "number")
    throw new Error(`expected a number at ${keys.join(".")}, got ${JSON.stringify(v)}`);
  return v;
}

/** A list in a parsed document; throws when it is not one. */
export function list(value: unknown, ...keys: (string | number)[]): unknown[] {
  const v = dig(value, ...keys);
  if (!Array.isArray(v)) throw new Error(`expected a list at ${keys.join(".")}`);
  return v as unknown[];
}
