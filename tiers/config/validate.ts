import type { z } from "zod";
import { describeValue, formatPath, type ConfigIssue } from "./issues.js";
import type { YamlSource } from "./yaml-source.js";

/**
 * Validates `source.data` against a zod schema and maps every zod issue to a positioned
 * `ConfigIssue`: file, line and column of the offending key or value, the dotted path, what was
 * found and what was expected. Returns the parsed value only when there was no issue.
 */
export function validateSource<S extends z.ZodType>(
  schema: S,
  source: YamlSource,
  basePath: readonly PropertyKey[] = [],
): { value?: z.output<S>; issues: ConfigIssue[] } {
  const result = schema.safeParse(valueAt(source.data, basePath), { reportInput: true });
  if (result.success) return { value: result.data, issues: [] };
  const issues: ConfigIssue[] = [];
  for (const zi of result.error.issues) issues.push(...mapIssue(schema, source, zi, basePath));
  return { issues };
}

/** The value at `path` inside plain data, or `undefined`. */
export function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = data;
  for (const key of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}

interface ZodIssueLike {
  readonly code: string;
  readonly path: PropertyKey[];
  readonly message: string;
  readonly input?: unknown;
  readonly expected?: string;
  readonly values?: readonly unknown[];
  readonly keys?: readonly string[];
  readonly minimum?: number | bigint;
  readonly maximum?: number | bigint;
  readonly inclusive?: boolean;
  readonly origin?: string;
  readonly format?: string;
  readonly pattern?: string;
  readonly errors?: readonly (readonly ZodIssueLike[])[];
  readonly params?: { got?: string; expected?: string };
}

function mapIssue(
  schema: z.ZodType,
  source: YamlSource,
  zi: ZodIssueLike,
  basePath: readonly PropertyKey[],
): ConfigIssue[] {
  const path = [...basePath, ...zi.path];
  const at = source.positionOf(path);
  const base = { ...at, path: formatPath(path) };
  switch (zi.code) {
    case "unrecognized_keys": {
      const allowed = allowedKeysAt(schema, zi.path);
      return (zi.keys ?? []).map((key) => {
        const keyPath = [...path, key];
        return {
          ...source.positionOf(keyPath, { key: true }),
          path: formatPath(keyPath),
          message: "unknown key",
          got: JSON.stringify(key),
          expected: allowed ? `one of ${allowed.join(", ")}` : "a known key",
        };
      });
    }
    case "invalid_type": {
      if (zi.input === undefined) {
        return [{ ...base, message: "is required", expected: describeExpected(zi.expected) }];
      }
      return [
        {
          ...base,
          message: "wrong type",
          got: describeValue(zi.input),
          expected: describeExpected(zi.expected),
        },
      ];
    }
    case "invalid_value":
      if (zi.input === undefined) {
        return [
          {
            ...base,
            message: "is required",
            expected: `one of ${(zi.values ?? []).map((v) => String(v)).join(", ")}`,
          },
        ];
      }
      return [
        {
          ...base,
          message: "not an allowed value",
          got: describeValue(zi.input),
          expected: `one of ${(zi.values ?? []).map((v) => String(v)).join(", ")}`,
        },
      ];
    case "too_small":
    case "too_big": {
      const bound = zi.code === "too_small" ? zi.minimum : zi.maximum;
      const op = zi.code === "too_small" ? (zi.inclusive ? ">=" : ">") : zi.inclusive ? "<=" : "<";
      const what =
        zi.origin === "array"
          ? `${op} ${String(bound)} items`
          : zi.origin === "string"
            ? `${op} ${String(bound)} characters`
            : `${op} ${String(bound)}`;
      return [
        {
          ...base,
          message: zi.code === "too_small" ? "too small" : "too large",
          got: Array.isArray(zi.input) ? `${zi.input.length} items` : describeValue(zi.input),
          expected: `a value ${what}`,
        },
      ];
    }
    case "invalid_format":
      return [
        {
          ...base,
          message: "does not match the required format",
          got: describeValue(zi.input),
          expected: zi.pattern ? `a string matching ${zi.pattern}` : (zi.format ?? "another format"),
        },
      ];
    case "invalid_union": {
      // Report the branch that got furthest: the one whose issues sit deepest.
      const branches = zi.errors ?? [];
      const best = [...branches].sort((a, b) => depth(b) - depth(a))[0];
      if (best && depth(best) > 0) {
        return best.flatMap((inner) =>
          mapIssue(schema, source, { ...inner, path: [...zi.path, ...inner.path] }, basePath),
        );
      }
      const expected = branches
        .map((b) => describeExpected(b[0]?.expected))
        .filter((e, i, all) => all.indexOf(e) === i)
        .join(" or ");
      return [{ ...base, message: "wrong type", got: describeValue(zi.input), expected }];
    }
    case "custom":
      return [
        {
          ...base,
          message: zi.message,
          ...(zi.params?.got !== undefined ? { got: zi.params.got } : {}),
          ...(zi.params?.expected !== undefined ? { expected: zi.params.expected } : {}),
        },
      ];
    default:
      return [{ ...base, message: zi.message, got: describeValue(zi.input) }];
  }
}

function depth(issues: readonly ZodIssueLike[]): number {
  return Math.max(0, ...issues.map((i) => i.path.length + (i.code === "invalid_type" ? 0 : 1)));
}

function describeExpected(expected: string | undefined): string {
  switch (expected) {
    case undefined:
      return "a value";
    case "int":
      return "an integer";
    case "number":
      return "a number";
    case "string":
      return "a string";
    case "boolean":
      return "true or false";
    case "object":
      return "a mapping";
    case "array":
      return "a list";
    default:
      return expected;
  }
}

interface ZodDefLike {
  type: string;
  shape?: Record<string, unknown>;
  innerType?: unknown;
  element?: unknown;
  valueType?: unknown;
  keyType?: unknown;
  options?: unknown[];
  in?: unknown;
  out?: unknown;
  entries?: Record<string, unknown>;
  getter?: () => unknown;
}

function defOf(schema: unknown): ZodDefLike | undefined {
  return (schema as { _zod?: { def?: ZodDefLike } } | undefined)?._zod?.def;
}

function unwrap(schema: unknown): unknown {
  let s = schema;
  for (let i = 0; i < 20; i++) {
    const def = defOf(s);
    if (!def) return s;
    if (
      ["optional", "nullable", "default", "prefault", "readonly", "catch", "nonoptional"].includes(def.type)
    )
      s = def.innerType;
    else if (def.type === "pipe") s = def.in;
    else if (def.type === "lazy" && def.getter) s = def.getter();
    else return s;
  }
  return s;
}

/** The keys an object schema accepts at `path` (best effort through unions, arrays and records). */
export function allowedKeysAt(schema: unknown, path: readonly PropertyKey[]): string[] | undefined {
  let current: unknown[] = [schema];
  for (const key of path) {
    const next: unknown[] = [];
    for (const s of current.map(unwrap)) {
      const def = defOf(s);
      if (!def) continue;
      if (def.type === "object" && def.shape && typeof key === "string" && key in def.shape)
        next.push(def.shape[key]);
      else if (def.type === "array" && typeof key === "number") next.push(def.element);
      else if (def.type === "record") next.push(def.valueType);
      else if (def.type === "union") next.push(...(def.options ?? []));
    }
    current = next.flatMap((s) => {
      const d = defOf(unwrap(s));
      return d?.type === "union" ? (d.options ?? []) : [s];
    });
  }
  const keys = new Set<string>();
  for (const s of current.map(unwrap)) {
    const def = defOf(s);
    if (def?.type === "object" && def.shape) for (const k of Object.keys(def.shape)) keys.add(k);
    if (def?.type === "record") {
      const kd = defOf(unwrap(def.keyType));
      if (kd?.type === "enum" && kd.entries) for (const k of Object.keys(kd.entries)) keys.add(k);
    }
  }
  return keys.size > 0 ? [...keys] : undefined;
}
