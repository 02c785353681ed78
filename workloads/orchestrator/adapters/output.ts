/**
 * Reading tool output defensively: the text may be empty, cut off, not JSON at all, preceded by
 * notes (fio prints them before its JSON), nested absurdly deep, or carry keys like `__proto__`.
 * Every helper returns a problem string instead of throwing.
 */

export type Read<T> = { ok: true; value: T } | { ok: false; problem: string };

const PREVIEW = 40;

/** A short, printable, quoted preview of some output for messages. */
export function preview(text: string): string {
  const cut = text.length > PREVIEW ? `${text.slice(0, PREVIEW)}…` : text;
  return JSON.stringify(cut);
}

/** Parses a whole JSON document; classifies empty, cut-off and non-JSON output. */
export function parseJson(text: string): Read<unknown> {
  const trimmed = text.trim();
  if (trimmed === "") return { ok: false, problem: "empty output" };
  try {
    return { ok: true, value: JSON.parse(trimmed) as unknown };
  } catch (error) {
    if (error instanceof RangeError) return { ok: false, problem: "output nests too deep to read" };
    const message = (error as Error).message;
    const at = /at position (\d+)/.exec(message);
    // Input that stops where the parser still wanted more is a cut-off document, not garbage.
    if (
      /Unexpected end of JSON input|Unterminated string/.test(message) ||
      (at && Number(at[1]) >= trimmed.length)
    )
      return { ok: false, problem: "output is truncated: the JSON document ends early" };
    return { ok: false, problem: `output is not JSON (starts with ${preview(trimmed)})` };
  }
}

/**
 * Parses the JSON object a tool prints after any notes: from the first line that starts with `{`
 * to the end. fio writes `note: …` and `fio: pid=…` lines on stdout before its JSON.
 */
export function parseJsonAfterNotes(text: string): Read<Record<string, unknown>> {
  const start = /^\{/m.exec(text);
  if (!start) {
    return text.trim() === ""
      ? { ok: false, problem: "empty output" }
      : { ok: false, problem: `output has no JSON object (starts with ${preview(text.trim())})` };
  }
  const read = parseJson(text.slice(start.index));
  if (!read.ok) return read;
  return isRecord(read.value)
    ? { ok: true, value: read.value }
    : { ok: false, problem: "output is not a JSON object" };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const UNSAFE_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/**
 * Follows a path such as `end.sum_received.bits_per_second` or `jobs[0].read.iops` through own
 * properties only (never the prototype chain).
 */
export function getPath(value: unknown, path: string): unknown {
  let current: unknown = value;
  for (const part of path.match(/[^.[\]]+|\[\d+\]/g) ?? []) {
    if (part.startsWith("[")) {
      const i = Number(part.slice(1, -1));
      if (!Array.isArray(current) || i >= current.length) return undefined;
      current = current[i] as unknown;
      continue;
    }
    if (UNSAFE_KEYS.has(part) || !isRecord(current) || !Object.hasOwn(current, part)) return undefined;
    current = current[part];
  }
  return current;
}

/** A finite number at `path`, or undefined. */
export function numberAt(value: unknown, path: string): number | undefined {
  const v = getPath(value, path);
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

const TELLTALE = /error|unrecognized|invalid|fail|cannot|unable|not found|denied|refused/i;

/**
 * The line of a tool's stderr that says what went wrong, for a reason: the first that looks like
 * an error (tools print usage after it), else the last; printable, at most 200 characters.
 */
export function telltaleLine(text: string): string | undefined {
  const lines = text
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, "")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  const line = lines.find((l) => TELLTALE.test(l)) ?? lines.at(-1);
  if (line === undefined) return undefined;
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}

/** Metrics as adapters produce them: finite numbers, strings or booleans by name. */
export type Metrics = Record<string, number | string | boolean>;

/** Adds the numbers that are defined and finite; leaves the others out. */
export function putNumbers(metrics: Metrics, values: Readonly<Record<string, number | undefined>>): Metrics {
  for (const [k, v] of Object.entries(values)) if (v !== undefined && Number.isFinite(v)) metrics[k] = v;
  return metrics;
}
