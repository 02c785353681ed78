import type { ConfigIssue } from "../../tiers/config/issues.js";
import { MAX_CONFIG_BYTES, readTextFile } from "../../tiers/config/read-file.js";
import { parseYamlText } from "../../tiers/config/yaml-source.js";
import { displayPath } from "../../stacks/config/source.js";

/** Top-level keys of a stack file the Pulumi CLI reads. */
const STACK_FILE_KEYS = ["config", "secretsprovider", "encryptedkey", "encryptionsalt"];

/**
 * Reads a stack file as the Pulumi CLI would, refusing what it would refuse — every problem at
 * once: a file that cannot be read (missing, not a regular file, too large, not UTF-8), YAML
 * errors, no config mapping, and each unknown top-level key.
 */
export function readStackFileConfig(
  file: string,
): { config: Record<string, unknown> } | { issues: ConfigIssue[] } {
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
  if (config === undefined || config === null || typeof config !== "object" || Array.isArray(config))
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
  if (problems.length > 0) return { issues: problems };
  return { config: { ...(config as Record<string, unknown>) } };
}
