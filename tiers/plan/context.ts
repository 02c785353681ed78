import type { Catalog } from "../catalog.js";
import { formatPath, type ConfigIssue, type IssueCollector } from "../config/issues.js";
import type { LoadedSuiteFile } from "./suite-file.js";
import type { ResolvedOptions } from "./options.js";

/** What every step of the compiler reads, and where it reports problems. */
export interface CompileContext {
  readonly catalog: Catalog;
  readonly resolved: ResolvedOptions;
  readonly suiteFile: LoadedSuiteFile;
  readonly issues: IssueCollector;
  readonly warnings: string[];
}

/** An issue positioned at `path` of the suite file. */
export function suiteIssue(
  ctx: CompileContext,
  path: readonly PropertyKey[],
  issue: { message: string; got?: string; expected?: string },
  options: { key?: boolean } = {},
): ConfigIssue {
  return {
    ...ctx.suiteFile.source.positionOf(path, options),
    path: formatPath(path),
    message: issue.message,
    ...(issue.got !== undefined ? { got: issue.got } : {}),
    ...(issue.expected !== undefined ? { expected: issue.expected } : {}),
  };
}
