import { mkdir, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { loadCatalog } from "../../tiers/catalog.js";
import { ConfigError, type ConfigIssue } from "../../tiers/config/issues.js";
import { ExitCode, TiersError } from "../../tiers/errors.js";
import type { CyclePlan } from "../../tiers/plan/schema.js";
import type { ToolName } from "../../tiers/schema/names.js";
import { findExecutable } from "../../workloads/orchestrator/adapters/locate.js";
import { createAdapter } from "../../workloads/orchestrator/adapters/registry.js";
import { findLibfaketime } from "../../workloads/orchestrator/faults/clock-skew.js";
import type { SkippedPart } from "../cycle/run-cycle.js";
import type { LocalOptions } from "./options.js";

export type { SkippedPart } from "../cycle/run-cycle.js";

/** Whether `port` on 127.0.0.1 can be bound now. */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ host: "127.0.0.1", port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * Which tools and fault injectors of the plan this machine lacks: those tests run and are
 * recorded as `skipped` ("tool not installed: …"), so the run goes on and the report says so.
 */
export async function missingParts(plan: CyclePlan): Promise<SkippedPart[]> {
  const catalog = loadCatalog();
  const uses = new Map<string, { tool: ToolName; binary: string; tests: Set<string> }>();
  for (const env of plan.environments) {
    for (const phase of env.phases) {
      for (const test of phase.tests) {
        const adapter = createAdapter(test.tool, env.tools);
        if (adapter.kind !== "process") continue;
        const binary = adapter.executable(test.parameters);
        if (binary === null) continue;
        const use = uses.get(binary) ?? { tool: test.tool, binary, tests: new Set<string>() };
        use.tests.add(test.id);
        uses.set(binary, use);
      }
    }
  }
  const out: SkippedPart[] = [];
  for (const use of uses.values()) {
    if (await findExecutable(use.binary)) continue;
    const pkg = catalog.tools[use.tool].debian_package;
    out.push({
      what: use.tool,
      reason: `tool not installed: ${use.binary} not found on PATH${pkg ? ` (Debian package ${pkg})` : ""}`,
      affects: [...use.tests].sort(),
    });
  }
  const skews = plan.environments
    .flatMap((e) => e.phases)
    .filter((p) => p.faults.some((f) => f.scenario === "clock_skew"));
  if (skews.length > 0 && !findLibfaketime()) {
    out.push({
      what: "clock_skew",
      reason:
        "libfaketime not installed (Debian package faketime): the clock_skew fault is recorded as skipped",
      affects: [...new Set(skews.map((p) => `${p.name}/clock_skew`))],
    });
  }
  return out;
}

/**
 * Everything that can be checked before anything starts: the output directory is writable, the
 * requested ports are free. Problems with the options are reported together (exit 3); a port in
 * use is an infrastructure problem (exit 6), reported with any others.
 */
export async function preflight(options: LocalOptions): Promise<void> {
  const issues: ConfigIssue[] = [];
  try {
    await mkdir(options.outDir, { recursive: true });
    const probe = join(options.outDir, `.write-probe-${process.pid}`);
    await writeFile(probe, "");
    await rm(probe);
  } catch (error) {
    issues.push({
      file: "command line",
      path: "--out",
      message: `the output directory is not writable: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      got: JSON.stringify(options.outDir),
      expected: "a directory this user can create and write",
    });
  }
  const busy: string[] = [];
  if (options.portBase !== undefined) {
    for (const [i, env] of options.plan.environments.entries()) {
      const port = options.portBase + i;
      if (!(await portIsFree(port))) busy.push(`127.0.0.1:${port} (for ${env.id}) is already in use`);
    }
  }
  if (issues.length > 0) {
    const error = new ConfigError(issues);
    if (busy.length === 0) throw error;
    throw new TiersError(ExitCode.InvalidConfig, error.shortMessage, {
      details: [...error.details, ...busy],
    });
  }
  if (busy.length > 0)
    throw new TiersError(
      ExitCode.Infrastructure,
      `${busy.length} port${busy.length === 1 ? "" : "s"} of --port-base ${options.portBase} already in use; nothing was started`,
      { details: busy },
    );
}
