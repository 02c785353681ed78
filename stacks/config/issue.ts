import { formatPath, type ConfigIssue } from "../../tiers/config/issues.js";
import type { YamlSource } from "../../tiers/config/yaml-source.js";

export type IssueText = { readonly message: string; readonly got?: string; readonly expected?: string };

/** An issue at `path` of the stack's config mapping: `stacks/Pulumi.x.yaml:4:3 test-tiers:sut.port: …`. */
export function stackIssue(
  source: YamlSource,
  path: readonly PropertyKey[],
  text: IssueText,
  options: { key?: boolean } = {},
): ConfigIssue {
  return {
    ...source.positionOf(path, options),
    path: formatPath(path),
    message: text.message,
    ...(text.got !== undefined ? { got: text.got } : {}),
    ...(text.expected !== undefined ? { expected: text.expected } : {}),
  };
}
