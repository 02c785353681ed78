import type { Params } from "./adapter.js";

/**
 * Parameters as command-line text. The contract has already checked their types (scalars only),
 * so anything else falls back rather than being rendered as "[object Object]".
 */
export function scalarText(value: unknown): string | undefined {
  return typeof value === "string" || typeof value === "number" || typeof value === "boolean"
    ? String(value)
    : undefined;
}

/** The parameter as text, or `fallback` when it is absent. */
export function param(params: Params, name: string, fallback: string | number): string {
  return scalarText(params[name]) ?? String(fallback);
}

/** The parameter as text, or undefined when it is absent. */
export function optionalParam(params: Params, name: string): string | undefined {
  return scalarText(params[name]);
}
