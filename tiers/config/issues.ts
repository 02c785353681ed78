import { ExitCode, TiersError } from "../errors.js";
import { escapeControls } from "../safe-text.js";

/** Where a problem is: a file (or "command line", "environment"), and a 1-based line and column. */
export interface SourcePosition {
  readonly file: string;
  readonly line?: number;
  readonly col?: number;
}

/** One configuration problem, reported together with all the others. */
export interface ConfigIssue extends SourcePosition {
  /** Dotted path of the key, e.g. `test_suites.default.tests[2].parameters.duration`. */
  readonly path: string;
  readonly message: string;
  /** What was found, already rendered for humans. */
  readonly got?: string;
  /** What would have been accepted. */
  readonly expected?: string;
}

/** Renders a key path the way users write it: `a.b[2].c`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out === "" ? "(root)" : out;
}

/** Renders a value for a message: short, one line, quoted strings. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (typeof value === "string")
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint")
    return String(value);
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === "object") return "a mapping";
  return typeof value;
}

/** `file:line:col path.to.key: message (got X, expected Y)` */
export function formatIssue(issue: ConfigIssue): string {
  let where = issue.file;
  if (issue.line !== undefined) where += `:${issue.line}:${issue.col ?? 1}`;
  const extra: string[] = [];
  if (issue.got !== undefined) extra.push(`got ${issue.got}`);
  if (issue.expected !== undefined) extra.push(`expected ${issue.expected}`);
  // Paths, keys and values come from the file: controls in them are made visible, never sent raw.
  return escapeControls(
    `${where} ${issue.path}: ${issue.message}${extra.length > 0 ? ` (${extra.join(", ")})` : ""}`,
    { lines: false },
  );
}

/** Every problem of one load, all at once. Maps to exit code 3 (invalid configuration). */
export class ConfigError extends TiersError {
  override readonly name = "ConfigError";
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[], summary?: string) {
    const sorted = sortIssues(issues);
    const n = sorted.length;
    super(ExitCode.InvalidConfig, summary ?? `invalid configuration: ${n} problem${n === 1 ? "" : "s"}`, {
      details: sorted.map(formatIssue),
    });
    this.issues = sorted;
  }
}

/** Sorted by place, and each distinct problem once (a shared rule checked per phase reports once). */
function sortIssues(issues: readonly ConfigIssue[]): ConfigIssue[] {
  const unique = new Map(issues.map((i) => [formatIssue(i), i]));
  return [...unique.values()].sort(
    (a, b) =>
      a.file.localeCompare(b.file) ||
      (a.line ?? 0) - (b.line ?? 0) ||
      (a.col ?? 0) - (b.col ?? 0) ||
      a.path.localeCompare(b.path),
  );
}

/** Collects issues while a load goes on, and throws them together at the end. */
export class IssueCollector {
  readonly issues: ConfigIssue[] = [];

  add(issue: ConfigIssue): void {
    this.issues.push(issue);
  }

  addAll(issues: readonly ConfigIssue[]): void {
    this.issues.push(...issues);
  }

  get empty(): boolean {
    return this.issues.length === 0;
  }

  /** Throws a `ConfigError` with everything collected, if anything was. */
  throwIfAny(summary?: string): void {
    if (this.issues.length > 0) throw new ConfigError(this.issues, summary);
  }
}
