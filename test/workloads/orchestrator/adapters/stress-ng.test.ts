import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { loadCatalog } from "../../../../tiers/catalog.js";
import { runTest } from "../../../../workloads/orchestrator/adapters/run-test.js";
import { descendantsOf, isAlive, listPids } from "../../../../workloads/orchestrator/process/proc.js";
import { planTest, runContext, scratchDir, validResult } from "../../support/context.js";
import { evaluateCase, loadCase, metric, reportedVersion } from "../../support/fixtures.js";
import { waitFor } from "../../support/wait.js";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const recorded = (name: string): Json =>
  (parseYaml(loadCase("stress-ng", name).files["metrics.yaml"]!) as { metrics: Json[] }).metrics[0]!;
const contracts = loadCatalog().contracts;

describe("stress-ng adapter on recorded outputs", () => {
  it.each([
    ["cpu", { stressor: "cpu" }],
    ["vm", { stressor: "vm", vm_bytes: "32M" }],
  ])("%s: bogo ops, rates, times and max RSS (bytes) from its YAML", (name, params) => {
    const m = recorded(name);
    const e = evaluateCase("stress-ng", name, params);
    expect(e.status, e.reason).toBe("passed");
    expect(metric(e, "bogo_ops")).toBe(m["bogo-ops"]);
    expect(metric(e, "bogo_ops_per_sec_real")).toBe(m["bogo-ops-per-second-real-time"]);
    expect(metric(e, "bogo_ops_per_sec_cpu")).toBe(m["bogo-ops-per-second-usr-sys-time"]);
    expect(metric(e, "wall_clock")).toBe(m["wall-clock-time"]);
    expect(metric(e, "cpu_usage_per_instance")).toBe(m["cpu-usage-per-instance"]);
    expect(metric(e, "max_rss")).toBe(m["max-rss"] * 1024);
    expect(e.metrics.max_rss?.unit).toBe("bytes");
    expect(e.validation).toStrictEqual({ status: "passed", checks: { bogo_ops_check: "passed" } });
  });

  it.each([
    [
      "bad-option",
      "failed",
      "stress-ng exited with code 1 (incorrect options or a fatal resource issue in the stress-ng harness)",
    ],
    [
      "truncated",
      "invalid",
      "the metrics file is not YAML: Implicit map keys need to be followed by map values at line 23, column 7",
    ],
    ["empty", "invalid", "the YAML metrics file is empty"],
    [
      "yaml-bomb",
      "invalid",
      "the metrics file is not YAML: Excessive alias count indicates a resource exhaustion attack",
    ],
    [
      "wrong-type",
      "invalid",
      "output breaks contract StressNgContract: bogo_ops: is required (expected a number); bogo_ops_per_sec_real: is required (expected a number)",
    ],
  ])("%s → %s: %s", (name, status, reason) => {
    const e = evaluateCase("stress-ng", name);
    expect([e.status, e.reason]).toStrictEqual([status, reason]);
  });
});

describe("stress-ng adapter against the real stress-ng", () => {
  const scratch = scratchDir("stress-ng");
  afterAll(() => scratch.remove());
  const ctx = runContext(scratch.dir);

  it.each([
    ["cpu", { stressor: "cpu", workers: 1, timeout: 1, cpu_load: 50 }],
    ["vm", { stressor: "vm", workers: 1, timeout: 1, vm_bytes: "16M" }],
    ["io", { stressor: "io", workers: 1, timeout: 1 }],
  ])("%s: passes, keeps its YAML as a raw file, leaves no scratch behind", async (_name, parameters) => {
    const r = validResult(
      await runTest(planTest("stress-ng", "StressNgContract", parameters), contracts, ctx),
    );
    expect(r.status, r.reason).toBe("passed");
    expect(r.tool).toStrictEqual({
      name: "stress-ng",
      version: reportedVersion("stress-ng", ["--version"], /version (\S+)/),
    });
    expect(r.metrics.bogo_ops?.value as number).toBeGreaterThan(0);
    const yamlRef = r.raw.files?.find((f) => f.endsWith(".metrics.yaml"));
    const kept = parseYaml(readFileSync(join(ctx.rawDir, yamlRef!.replace(/^raw\//, "")), "utf8")) as {
      metrics: Json[];
    };
    expect(r.metrics.bogo_ops?.value).toBe(kept.metrics[0]!["bogo-ops"]);
    expect(readdirSync(scratch.dir).filter((f) => f.startsWith("stress-ng-"))).toStrictEqual([]);
  });

  it("a run past its timeout is stopped with every worker it forked", async () => {
    const own = scratchDir("stress-ng-timeout");
    try {
      const running = runTest(
        planTest(
          "stress-ng",
          "StressNgContract",
          { stressor: "cpu", workers: 2, timeout: 60 },
          { timeoutMs: 1500 },
        ),
        contracts,
        runContext(own.dir),
      );
      // stress-ng's command line names this test's own scratch directory; its workers are its children.
      const tree = await waitFor("stress-ng and its two workers", () => {
        const parent = listPids().find((pid) => {
          try {
            return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(own.dir);
          } catch {
            return false;
          }
        });
        const all = parent === undefined ? [] : [parent, ...descendantsOf(parent)];
        return all.length >= 3 ? all : undefined;
      });
      const r = validResult(await running);
      expect([r.status, r.reason]).toStrictEqual([
        "failed",
        "timed out after 1500 ms; the tool's process tree was stopped",
      ]);
      for (const pid of tree) expect(isAlive(pid), String(pid)).toBe(false);
    } finally {
      own.remove();
    }
  });

  it("an option for another stressor is refused before anything runs", async () => {
    const test = planTest("stress-ng", "StressNgContract", { stressor: "vm", cpu_load: 50 });
    const r = validResult(await runTest(test, contracts, ctx));
    expect(r.status).toBe("invalid");
    expect(r.reason).toBe(
      "parameters rejected by the stress-ng adapter: cpu_load: only applies to the cpu stressor (got stressor vm)",
    );
    expect(r.raw).toStrictEqual({});
  });
});
