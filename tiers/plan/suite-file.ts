import { IssueCollector } from "../config/issues.js";
import { validateSource } from "../config/validate.js";
import { readYamlFile, type YamlSource } from "../config/yaml-source.js";
import { SuiteFile } from "../schema/suite.js";

/** A user's suite file (or the built-in default), validated against its schema, positions kept. */
export interface LoadedSuiteFile {
  readonly file: string;
  readonly source: YamlSource;
  readonly content: SuiteFile;
}

/** Reads and schema-checks a suite file; throws one `ConfigError` with every problem in it. */
export function loadSuiteFile(file: string): LoadedSuiteFile {
  const issues = new IssueCollector();
  const { source, issues: parseIssues } = readYamlFile(file);
  issues.addAll(parseIssues);
  if (!source) {
    issues.throwIfAny(`cannot load suite file ${file}`);
    throw new Error("unreachable");
  }
  const r = validateSource(SuiteFile, source);
  issues.addAll(r.issues);
  if (r.value && Object.keys(r.value).length === 0) {
    issues.add({
      file,
      line: 1,
      col: 1,
      path: "(root)",
      message: "nothing to load",
      expected: "at least one of test_suites, contracts, environments, options",
    });
  }
  issues.throwIfAny(`invalid suite file ${file}`);
  return { file, source, content: r.value! };
}
