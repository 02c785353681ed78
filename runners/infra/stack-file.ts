import type { ConfigIssue } from "../../tiers/config/issues.js";
import { MAX_CONFIG_BYTES, readTextFile } from "../../tiers/config/read-file.js";
import { parseYamlText } from "../../tiers/config/yaml-source.js";
import { displayPath } from "../../stacks/config/source.js";

/** Top-level keys of a stack file the Pulumi CLI reads. */
const STACK_FILE_KEYS = ["config", "secretsprovider", "encryptedkey", "encryptionsalt"];

/**
 * A stack file read as the Pulumi CLI reads it. `config` is there when the program can run on it;
 * `issues` are the file's own problems. Unknown top-level keys do not stop the program: the harness
 * still refuses the file, but runs the program for the problems of its config mapping (unknown
 * `test-tiers:` keys, types, ranges …), so all of them are reported in one error.
 */
export type StackFileConfig =
  | { readonly config: Record<string, unknown>; readonly issues: readonly ConfigIssue[] }
  | { readonly config?: undefined; readonly issues: readonly ConfigIssue[] };

/**
 * Reads a stack file as the Pulumi CLI would, refusing what it would refuse — every problem at
 * once: a file that cannot be read (missing, not a regular file, too large, not UTF-8), YAML
 * errors, no config mapping (no `config` then), and each unknown top-level key (with `config`).
 */
export function readStackFileConfig(file: string): StackFileConfig {
  const display = displayPath(file);
  const read = readTextFile(file, { maxBytes: MAX_CONFIG_BYTES, display });
  if (read.text === undefined)
    return {
      issues: read.issues.map((i) =>
        i.message === "file not found" ? { ...i, message: "stack file not found" } : i,
      ),
    };
  const { source, issues } = parseYamlText(read.text, display);
  if (!source) return { issues };
  const problems: ConfigIssue[] = [];
  const data = source.data as Record<string, unknown> | null;
  const isMapping = data !== null && typeof data === "object" && !Array.isArray(data);
  const config = isMapping ? data.config : undefined;
  const hasConfig =
    config !== undefined && config !== null && typeof config === "object" && !Array.isArray(config);
  if (!hasConfig)
    problems.push({
      ...source.positionOf(["config"]),
      path: "config",
      message: "the stack file has no config mapping",
      expected: "config: { test-tiers:tier: … }",
    });
  for (const k of isMapping ? Object.keys(data) : [])
    if (!STACK_FILE_KEYS.includes(k))
      problems.push({
        ...source.positionOf([k], { key: true }),
        path: k,
        message: "unknown key of a stack file",
        got: JSON.stringify(k),
        expected: "config, secretsprovider, encryptedkey or encryptionsalt",
      });
  if (!hasConfig) return { issues: problems };
  return { config: { ...(config as Record<string, unknown>) }, issues: problems };
}
