import { FORMAT_BOUNDS } from "./limits.js";

/**
 * What JSON.parse and the schemas let through but a bundle must not hold, because the centre
 * could not store it as the bundle says it, or not the same on SQLite and PostgreSQL:
 *
 * - a key twice in one object (`JSON.parse` keeps the last: two readers could see two values);
 * - a `__proto__` key (a parser that assigns it changes the object's prototype instead);
 * - a string with U+0000 (PostgreSQL text cannot hold it) or an unpaired surrogate (not Unicode;
 *   each driver turns it into something else). Both are refused, never altered: the choice is
 *   documented in docs/architecture.md;
 * - a number JSON.parse could only read as ±Infinity (`1e999`), which JSON cannot write back;
 * - nesting deeper than `FORMAT_BOUNDS.maxJsonDepth`.
 *
 * Hand-written because this is the bundle reader's security boundary (docs/architecture.md).
 */

type Path = (string | number)[];

function renderPath(path: Path): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : out === "" ? p : `.${p}`;
  return out === "" ? "(root)" : out;
}

/** Why a string cannot be stored as it is, or undefined. */
export function stringProblem(s: string): string | undefined {
  if (s.includes("\u0000")) return "holds U+0000 (NUL), which the results database cannot store";
  if (!(s as string & { isWellFormed(): boolean }).isWellFormed())
    return "holds an unpaired surrogate (not Unicode text)";
  return undefined;
}

/**
 * A copy of a value whose strings (and keys) a bundle can carry: U+0000 and unpaired surrogates
 * become U+FFFD. For what an environment records from tools' output, before it is signed; the
 * tool's untouched bytes stay in `raw/`.
 */
export function storable<T>(value: T): T {
  const text = (s: string): string =>
    (s.replaceAll("\u0000", "\ufffd") as string & { toWellFormed(): string }).toWellFormed();
  const fix = (v: unknown): unknown => {
    if (typeof v === "string") return text(v);
    if (Array.isArray(v)) return v.map(fix);
    if (v !== null && typeof v === "object")
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [text(k), fix(x)]));
    return v;
  };
  return fix(value) as T;
}

/** The first problem of a decoded JSON value, as `path: problem`, or undefined. */
export function jsonValueProblem(
  value: unknown,
  maxDepth: number = FORMAT_BOUNDS.maxJsonDepth,
): string | undefined {
  const stack: { value: unknown; path: Path }[] = [{ value, path: [] }];
  while (stack.length > 0) {
    const { value: v, path } = stack.pop()!;
    if (typeof v === "string") {
      const p = stringProblem(v);
      if (p) return `${renderPath(path)}: ${p}`;
    } else if (typeof v === "number") {
      if (!Number.isFinite(v))
        return `${renderPath(path)}: a number beyond what JSON can carry (read as ${v})`;
    } else if (v !== null && typeof v === "object") {
      if (path.length >= maxDepth) return `${renderPath(path)}: nests deeper than ${maxDepth} levels`;
      if (Array.isArray(v)) {
        for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], path: [...path, i] });
      } else {
        const keys = Object.keys(v);
        for (let i = keys.length - 1; i >= 0; i--) {
          const k = keys[i]!;
          if (k === "__proto__") return `${renderPath(path)}: has a "__proto__" key`;
          const p = stringProblem(k);
          if (p) return `${renderPath(path)}: a key ${p}`;
          stack.push({ value: (v as Record<string, unknown>)[k], path: [...path, k] });
        }
      }
    }
  }
  return undefined;
}

/** Object keys in a decoded value, counted through every level. */
export function countKeys(value: unknown): number {
  let n = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v !== "object") continue;
    if (Array.isArray(v)) for (const x of v) stack.push(x);
    else
      for (const k in v) {
        n++;
        stack.push((v as Record<string, unknown>)[k]);
      }
  }
  return n;
}

const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

/** Index of the quote that ends the string starting at `open`, in text that is valid JSON. */
function stringEnd(text: string, open: number): number {
  let j = open + 1;
  for (;;) {
    j = text.indexOf('"', j);
    if (j === -1) return text.length;
    let backslashes = 0;
    for (let k = j - 1; text.charCodeAt(k) === 0x5c; k--) backslashes++;
    if (backslashes % 2 === 0) return j;
    j++;
  }
}

/**
 * Object keys written in a text that is valid JSON (a string followed by `:`). Equal to
 * `countKeys(JSON.parse(text))` unless some object has a key twice. One pass, no allocation: it
 * runs on every sample line.
 */
export function countKeysInText(text: string): number {
  let n = 0;
  let i = text.indexOf('"');
  while (i !== -1) {
    let after = stringEnd(text, i) + 1;
    while (isSpace(text.charCodeAt(after))) after++;
    if (text.charCodeAt(after) === 0x3a) n++;
    i = text.indexOf('"', after);
  }
  return n;
}

/** The first key that an object of valid JSON text has twice, with its path, or undefined. */
export function findDuplicateKey(text: string): string | undefined {
  // One frame per open object (its keys so far) or array (its next index).
  const frames: { keys?: Set<string>; index: number; path: Path }[] = [];
  let pendingKey: string | undefined;
  const childPath = (): Path => {
    const top = frames.at(-1);
    if (!top) return [];
    return top.keys ? [...top.path, pendingKey ?? "?"] : [...top.path, top.index];
  };
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const end = stringEnd(text, i);
      let after = end + 1;
      while (isSpace(text.charCodeAt(after))) after++;
      const top = frames.at(-1);
      if (top?.keys && text.charCodeAt(after) === 0x3a) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (top.keys.has(key)) return `${renderPath(top.path)}: the key ${JSON.stringify(key)} appears twice`;
        top.keys.add(key);
        pendingKey = key;
        i = after;
      } else i = end;
    } else if (c === 0x7b || c === 0x5b) {
      frames.push({ ...(c === 0x7b ? { keys: new Set<string>() } : {}), index: 0, path: childPath() });
    } else if (c === 0x7d || c === 0x5d) {
      frames.pop();
    } else if (c === 0x2c) {
      const top = frames.at(-1);
      if (top && !top.keys) top.index++;
    }
  }
  return undefined;
}

/** Everything above for one decoded JSON text: the first problem, or undefined. */
export function jsonTextProblem(text: string, value: unknown): string | undefined {
  if (countKeysInText(text) !== countKeys(value))
    return findDuplicateKey(text) ?? "an object has a key twice";
  return jsonValueProblem(value);
}
