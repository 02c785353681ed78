import type { ContractSpec } from "../../../tiers/schema/contract.js";
import type { AdapterConfig, Params, ParseOutcome, ProcessAdapter, RawOutput } from "./adapter.js";
import { getPath, parseJson, type Metrics } from "./output.js";
import { scalarText } from "./params.js";

/**
 * command: any program that prints one JSON document on stdout, measured by a contract the user
 * writes in YAML (`tool: command`). The contract declares the parameters `command` (the program)
 * and optionally `args` (its arguments as one string: words split on spaces, '…' and "…" quote, no
 * shell), plus any others, which `{name}` placeholders in `args` take. Each declared result is read
 * from the JSON at its `from` path (default: its own name).
 */

export type Tokens = { ok: true; words: string[] } | { ok: false; problem: string };

/** Splits an argument string into words: spaces separate, quotes group, backslash escapes (not in '…'). */
export function splitWords(text: string): Tokens {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === "\\" && quote === '"' && i + 1 < text.length) word += text[++i];
      else word += c;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === "\\" && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) return { ok: false, problem: `unterminated ${quote} quote` };
  if (inWord) words.push(word);
  return { ok: true, words };
}

const PLACEHOLDER = /\{([A-Za-z][A-Za-z0-9_.-]*)\}/g;

/** The program's arguments with `{name}` placeholders replaced by parameter values. */
export function commandArgs(params: Params): Tokens {
  if (params.args === undefined) return { ok: true, words: [] };
  if (typeof params.args !== "string") return { ok: false, problem: "args must be a string" };
  const split = splitWords(params.args);
  if (!split.ok) return split;
  const words: string[] = [];
  for (const w of split.words) {
    let missing: string | undefined;
    const replaced = w.replace(PLACEHOLDER, (_m, name: string) => {
      if (
        name === "command" ||
        name === "args" ||
        !Object.hasOwn(params, name) ||
        params[name] === undefined
      ) {
        missing ??= name;
        return "";
      }
      return scalarText(params[name]) ?? "";
    });
    if (missing !== undefined) return { ok: false, problem: `{${missing}} names no parameter of the test` };
    words.push(replaced);
  }
  return { ok: true, words };
}

export function parseCommand(raw: RawOutput, _params: Params, contract: ContractSpec): ParseOutcome {
  const read = parseJson(raw.stdout);
  if (!read.ok) return read;
  const metrics: Metrics = {};
  for (const [name, spec] of Object.entries(contract.results)) {
    const value = getPath(read.value, spec.from ?? name);
    if (typeof value === "number" && !Number.isFinite(value)) continue;
    if (typeof value === "number" || typeof value === "string" || typeof value === "boolean")
      metrics[name] = value;
    else if (value !== undefined && value !== null) {
      return {
        ok: false,
        problem: `${spec.from ?? name} is ${Array.isArray(value) ? "a list" : "an object"}, not a value`,
      };
    }
  }
  return { ok: true, metrics };
}

export function createCommandAdapter(_config: AdapterConfig): ProcessAdapter {
  return {
    kind: "process",
    tool: "command",
    units: {},
    executable: (params) =>
      typeof params.command === "string" && params.command !== "" ? params.command : null,
    versionArgs: null,
    parseVersion: () => null,
    checkParameters(params) {
      const problems: string[] = [];
      if (typeof params.command !== "string" || params.command.trim() === "")
        problems.push("command: the contract must give the program to run (a string parameter `command`)");
      const args = commandArgs(params);
      if (!args.ok) problems.push(`args: ${args.problem}`);
      return problems;
    },
    prepare(params, ctx, executablePath) {
      const args = commandArgs(params);
      if (!args.ok) throw new Error(`args: ${args.problem}`);
      return Promise.resolve({
        invocation: { file: executablePath, args: args.words, cwd: ctx.scratchDir },
        cleanup: () => Promise.resolve(),
      });
    },
    parse: parseCommand,
  };
}
