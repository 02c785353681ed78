/**
 * Runs the whole Pulumi program for one stack under Pulumi's mock runtime and writes the captured
 * graph as JSON (to --out, else stdout). One stack per process: Pulumi's runtime state is global.
 *
 *   node --import tsx runners/infra/capture-child.ts <stack> [--stack-file F] [--set key=json]… [--out F]
 */
import { writeFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { ConfigError, type ConfigIssue } from "../../tiers/config/issues.js";
import {
  cliConfigFromStackFile,
  displayPath,
  PROJECT_DIR,
  STACK_FILE_ENV,
  stackFilePath,
} from "../../stacks/config/source.js";
import type { CapturedGraph } from "./graph.js";
import { readStackFileConfig } from "./stack-file.js";

const started = performance.now();
const PROJECT = "test-tiers";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    "stack-file": { type: "string" },
    program: { type: "string" },
    set: { type: "string", multiple: true },
    out: { type: "string" },
  },
});
if (positionals[0] === undefined) {
  process.stderr.write("usage: capture-child.ts <stack> [--stack-file F] [--set key=json]… [--out F]\n");
  process.exit(2);
}
const stack: string = positionals[0];
const stackFile = values["stack-file"] !== undefined ? resolve(values["stack-file"]) : stackFilePath(stack);
const program =
  values.program !== undefined ? resolve(values.program) : resolve(PROJECT_DIR, "stacks/index.ts");

const graph = await capture();
const json = JSON.stringify(graph);
if (values.out !== undefined) writeFileSync(values.out, json);
else process.stdout.write(`${json}\n`);

async function capture(): Promise<CapturedGraph> {
  const base = {
    kind: "test-tiers/captured-graph" as const,
    project: PROJECT,
    stack,
    stackFile: displayPath(stackFile),
  };
  const empty = { resources: [], outputs: null, outputSecretPaths: [], invokes: [] };
  const timings = (importMs: number, programMs: number) => ({
    importMs,
    programMs,
    totalMs: performance.now() - started,
  });

  // The stack file is read as the Pulumi CLI would read it. A file it cannot read, or without a
  // config mapping, never reaches the program; one with unknown top-level keys is refused too,
  // after the program has run for its config's problems, so that every problem is in one error.
  const fileConfig = readStackFileConfig(stackFile);
  const refused = (
    issues: readonly ConfigIssue[],
    extra: { root?: CapturedGraph["root"]; timings: CapturedGraph["timings"] },
  ): CapturedGraph => {
    const error = new ConfigError(issues, `invalid stack configuration in ${displayPath(stackFile)}`);
    return {
      ...base,
      ok: false,
      error: { message: error.message, issues: error.issues },
      ...empty,
      ...extra,
    };
  };
  if (fileConfig.config === undefined) return refused(fileConfig.issues, { timings: timings(0, 0) });
  for (const assignment of values.set ?? []) {
    const eq = assignment.indexOf("=");
    fileConfig.config[assignment.slice(0, eq)] = JSON.parse(assignment.slice(eq + 1)) as unknown;
  }

  // Mocks first, then the config, then the program: the program's modules must find the mock runtime.
  const pulumi = await import("@pulumi/pulumi");
  const { installMocks } = await import("./mocks.js");
  const recorder = await installMocks(PROJECT, stack);
  const cli = cliConfigFromStackFile(fileConfig.config);
  pulumi.runtime.setAllConfig(cli.config, cli.secretKeys);
  if (stackFile !== stackFilePath(stack)) process.env[STACK_FILE_ENV] = stackFile;

  const t0 = performance.now();
  const mod = (await import(pathToFileURL(isAbsolute(program) ? program : resolve(program)).href)) as {
    default: () => unknown;
  };
  const importMs = performance.now() - t0;
  const t1 = performance.now();
  let error: CapturedGraph["error"];
  try {
    await pulumi.runtime.runInPulumiStack(() => Promise.resolve(mod.default()));
  } catch (e) {
    error = describeError(e);
  }
  try {
    await pulumi.runtime.disconnect();
  } catch (e) {
    error ??= describeError(e);
  }
  const programMs = performance.now() - t1;
  // Nothing the program registered counts: the file is refused.
  if (fileConfig.issues.length > 0)
    return refused([...fileConfig.issues, ...(error?.issues ?? [])], {
      ...(recorder.root !== undefined ? { root: recorder.root } : {}),
      timings: timings(importMs, programMs),
    });
  return {
    ...base,
    ok: error === undefined,
    ...(error ? { error } : {}),
    ...(recorder.root !== undefined ? { root: recorder.root } : {}),
    resources: recorder.resources,
    outputs: recorder.rootOutputs?.value ?? null,
    outputSecretPaths: recorder.rootOutputs?.secretPaths ?? [],
    invokes: recorder.invokes,
    timings: timings(importMs, programMs),
  };
}

function describeError(e: unknown): NonNullable<CapturedGraph["error"]> {
  const cause = (e as { cause?: unknown } | null)?.cause;
  if (cause instanceof ConfigError) return { message: cause.message, issues: cause.issues };
  if (e instanceof ConfigError) return { message: e.message, issues: e.issues };
  return { message: e instanceof Error ? (e.stack ?? e.message) : String(e) };
}
