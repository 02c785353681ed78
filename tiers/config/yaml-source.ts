import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from "yaml";
import type { ConfigIssue, SourcePosition } from "./issues.js";
import { MAX_CONFIG_BYTES, readTextFile } from "./read-file.js";

/** A parsed YAML file that still knows where every key and value came from. */
export interface YamlSource {
  readonly file: string;
  readonly data: unknown;
  /** Position of the value at `path` (or of its key with `{ key: true }`), or the nearest parent that exists. */
  positionOf(path: readonly PropertyKey[], options?: { key?: boolean }): SourcePosition;
}

export { MAX_CONFIG_BYTES };

/**
 * Reads and parses a YAML file. Syntax errors, duplicate keys, a missing or unreadable file, a
 * file that is not a regular file, an oversized one (refused before it is read) and invalid UTF-8
 * come back as issues (never thrown), so a caller can report them with everything else.
 */
export function readYamlFile(file: string): { source?: YamlSource; issues: ConfigIssue[] } {
  const read = readTextFile(file, { maxBytes: MAX_CONFIG_BYTES });
  if (read.text === undefined) return { issues: read.issues };
  return parseYamlText(read.text, file);
}

/** Parses YAML text; `file` is the name used in messages. */
export function parseYamlText(text: string, file: string): { source?: YamlSource; issues: ConfigIssue[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, strict: true });
  const issues: ConfigIssue[] = [];
  for (const err of doc.errors) {
    const pos = lineCounter.linePos(err.pos[0]);
    issues.push({
      file,
      line: pos.line,
      col: pos.col,
      path: "(yaml)",
      message: yamlErrorMessage(err.code, err.message),
    });
  }
  if (issues.length > 0) return { issues };
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    return { issues: [{ file, path: "(yaml)", message: `cannot read YAML: ${(error as Error).message}` }] };
  }
  if (data === null || data === undefined) {
    return {
      issues: [{ file, line: 1, col: 1, path: "(root)", message: "file is empty", expected: "a mapping" }],
    };
  }
  return { source: makeSource(file, doc, lineCounter, data), issues };
}

function yamlErrorMessage(code: string, message: string): string {
  const firstLine = message.split("\n")[0] ?? message;
  if (code === "DUPLICATE_KEY") return `duplicate key: ${firstLine.replace(/ at line.*$/, "")}`;
  return `YAML syntax error: ${firstLine.replace(/ at line \d+, column \d+.*$/, "")}`;
}

function makeSource(file: string, doc: Document, lineCounter: LineCounter, data: unknown): YamlSource {
  const posOf = (node: Node | null | undefined): SourcePosition => {
    const offset = node?.range?.[0];
    if (offset === undefined) return { file };
    const p = lineCounter.linePos(offset);
    return { file, line: p.line, col: p.col };
  };
  return {
    file,
    data,
    positionOf(path, options = {}) {
      let node: unknown = doc.contents;
      let best: SourcePosition = posOf(doc.contents);
      for (let i = 0; i < path.length; i++) {
        const key = path[i];
        const last = i === path.length - 1;
        if (isMap(node)) {
          const pair = node.items.find((p) => isPair(p) && keyEquals(p.key, key));
          if (!pair) return best;
          if (last && options.key) return posOf(pair.key as Node);
          node = pair.value;
          best = pair.value ? posOf(pair.value as Node) : posOf(pair.key as Node);
        } else if (isSeq(node) && typeof key === "number") {
          const item = node.items[key];
          if (item === undefined) return best;
          node = item;
          best = posOf(item as Node);
        } else {
          return best;
        }
      }
      return best;
    },
  };
}

function keyEquals(keyNode: unknown, key: PropertyKey | undefined): boolean {
  if (isScalar(keyNode)) return String(keyNode.value) === String(key);
  return false;
}

/** A source for data that did not come from a file (command line, environment, defaults). */
export function syntheticSource(file: string, data: unknown): YamlSource {
  return { file, data, positionOf: () => ({ file }) };
}
