/**
 * `tiers policy check`: each stack's program run offline (captureStack), the pack applied to every
 * captured graph. A stack that cannot be captured (no stack file, bad config, a program that
 * throws) stops the check with every such problem, as invalid configuration.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { isStackPolicy, POLICIES, POLICY_PACK_NAME, type AnyPolicy } from "../../policies/policies.js";
import { STACKS_DIR, stackFilePath, displayPath } from "../../stacks/config/source.js";
import { ConfigError, formatIssue } from "../../tiers/config/issues.js";
import { ExitCode, TiersError } from "../../tiers/errors.js";
import { captureStack, type CaptureOptions } from "../infra/capture.js";
import type { CapturedGraph } from "../infra/graph.js";
import { checkGraph, enforcementLevelOf, type PolicyConfig, type Violation } from "./check.js";

export interface PolicySummary {
  readonly name: string;
  readonly description: string;
  readonly enforcementLevel: string;
  readonly kind: "resource" | "stack";
}

export interface StackCheck {
  readonly stack: string;
  readonly stackFile: string;
  readonly resources: number;
  readonly violations: readonly Violation[];
}

export interface PolicyCheckReport {
  readonly pack: { readonly name: string; readonly version: string };
  readonly policies: readonly PolicySummary[];
  readonly stacks: readonly StackCheck[];
}

export interface CheckOptions extends Pick<CaptureOptions, "stackFile" | "program" | "overrides"> {
  readonly policies?: readonly AnyPolicy[];
  readonly config?: PolicyConfig;
  /** Captures at a time. @default the number of cores */
  readonly concurrency?: number;
}

const PACK_JSON = fileURLToPath(new URL("../../policies/package.json", import.meta.url));

/** The pack's version, as the engine reads it (the pack's package.json). */
export function policyPackVersion(): string {
  return (JSON.parse(readFileSync(PACK_JSON, "utf8")) as { version: string }).version;
}

export function summarizePolicies(policies: readonly AnyPolicy[] = POLICIES): PolicySummary[] {
  return policies.map((p) => ({
    name: p.name,
    description: p.description,
    enforcementLevel: enforcementLevelOf(p),
    kind: isStackPolicy(p) ? "stack" : "resource",
  }));
}

export async function checkStacks(
  stacks: readonly string[],
  options: CheckOptions = {},
): Promise<PolicyCheckReport> {
  const policies = options.policies ?? POLICIES;
  const capture: CaptureOptions = {
    ...(options.stackFile !== undefined ? { stackFile: options.stackFile } : {}),
    ...(options.program !== undefined ? { program: options.program } : {}),
    ...(options.overrides !== undefined ? { overrides: options.overrides } : {}),
  };
  if (options.stackFile === undefined) refuseUnknownStacks(stacks);
  const graphs = await mapLimited(stacks, options.concurrency ?? availableParallelism(), (s) =>
    captureStack(s, capture),
  );
  const failed = graphs.filter((g) => !g.ok);
  if (failed.length > 0) throw captureFailure(failed, stacks.length);
  const results: StackCheck[] = [];
  for (const graph of graphs) {
    const { violations } = await checkGraph(graph, {
      policies,
      ...(options.config !== undefined ? { config: options.config } : {}),
    });
    results.push({
      stack: graph.stack,
      stackFile: graph.stackFile,
      resources: graph.resources.length,
      violations,
    });
  }
  return {
    pack: { name: POLICY_PACK_NAME, version: policyPackVersion() },
    policies: summarizePolicies(policies),
    stacks: results,
  };
}

/** Exit code 8 when any mandatory policy is violated, else 0 (advisory violations are reported only). */
export function exitCodeOfReport(report: PolicyCheckReport): number {
  return report.stacks.some((s) => s.violations.some((v) => v.level === "mandatory"))
    ? ExitCode.PolicyViolation
    : ExitCode.Ok;
}

/** The stacks of stacks/: one `Pulumi.<stack>.yaml` each. */
export function shippedStacks(): string[] {
  return readdirSync(STACKS_DIR)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

/** Stack names with no stack file, all at once, before any program runs. */
function refuseUnknownStacks(stacks: readonly string[]): void {
  const unknown = stacks.filter((s) => !existsSync(stackFilePath(s)));
  if (unknown.length === 0) return;
  throw new ConfigError(
    unknown.map((s) => ({
      file: displayPath(stackFilePath(s)),
      path: "(file)",
      message: `unknown stack ${s}: no such stack file`,
      got: JSON.stringify(s),
      expected: `one of ${shippedStacks().join(", ")}, or --stack-file`,
    })),
    `unknown stack${unknown.length === 1 ? "" : "s"}: ${unknown.join(", ")}`,
  );
}

/** Every stack that could not be captured, as one invalid-configuration error. */
function captureFailure(failed: readonly CapturedGraph[], total: number): TiersError {
  const lines = failed.flatMap((g) => {
    if (g.error?.issues) return g.error.issues.map(formatIssue);
    return [
      `stack ${g.stack}: the program failed under Pulumi's mock runtime: ${programError(g.error?.message)}`,
    ];
  });
  const only = failed.length === 1 ? failed[0]! : undefined;
  const summary = only?.error?.issues
    ? `invalid stack configuration in ${only.stackFile}`
    : only
      ? `stack ${only.stack} could not be checked`
      : `${failed.length} of ${total} stacks could not be checked`;
  return new TiersError(ExitCode.InvalidConfig, summary, { details: lines });
}

/** The error's first line and the first frame outside node_modules: enough to find it, no full trace. */
function programError(message: string | undefined): string {
  const lines = (message ?? "no reason given").split("\n");
  const frame = lines.find((l) => /^\s+at /.test(l) && !l.includes("node_modules") && !l.includes("node:"));
  return frame ? `${lines[0]!} (${frame.trim()})` : lines[0]!;
}

async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}
