import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadCatalog } from "../../../../tiers/catalog.js";
import { createElbenchoAdapter } from "../../../../workloads/orchestrator/adapters/elbencho.js";
import { findExecutable } from "../../../../workloads/orchestrator/adapters/locate.js";
import { runTest } from "../../../../workloads/orchestrator/adapters/run-test.js";
import { planTest, runContext, scratchDir, validResult } from "../../support/context.js";
import { caseMeta, dig, evaluateCase, loadCase, metric } from "../../support/fixtures.js";

/** The fixture's line for a phase, read by the test itself (values are strings, as boost writes them). */
function lastDone(name: string, phase: string): Record<string, unknown> {
  const lines = loadCase("elbencho", name).files["results.json"]!.trim().split("\n");
  const line = lines.map((l): unknown => JSON.parse(l)).find((p) => dig(p, "phase_type") === phase);
  return dig(line, "last_done") as Record<string, unknown>;
}
const operation = (name: string): string => caseMeta("elbencho")[name]!.operation!;
const contracts = loadCatalog().contracts;

describe("elbencho adapter on result files written from its documented format", () => {
  it.each([
    ["write", "WRITE"],
    ["read", "READ"],
  ])("%s: the %s phase's last_done figures, strings read as numbers", (name, phase) => {
    const last = lastDone(name, phase);
    expect(typeof last.iops).toBe("string");
    const e = evaluateCase("elbencho", name, { operation: operation(name) });
    expect(e.status, e.reason).toBe("passed");
    expect(metric(e, "iops")).toBe(Number(last.iops));
    expect(metric(e, "throughput")).toBe(Number(last["bytes/s"]));
    expect(metric(e, "entries_per_sec")).toBe(Number(last["entries/s"]));
    expect(metric(e, "elapsed")).toBe(Number(last.elapsed_time_ms));
    expect(metric(e, "latency_avg")).toBe(Number(dig(last, "latency", "IO", "avg_us")));
    expect(metric(e, "cpu_utilization_percent")).toBe(Number(last["cpu%"]));
    expect(e.metrics.throughput?.unit).toBe("bytes/sec");
    expect(e.validation).toStrictEqual({
      status: "passed",
      checks: { iops_check: "passed", throughput_check: "passed" },
    });
  });

  it("a directory phase has entries but no IOPS: the IOPS and throughput rules are not applied", () => {
    const e = evaluateCase("elbencho", "mkdirs", { operation: "mkdirs" });
    expect(e.status).toBe("passed");
    expect(e.metrics.iops).toBeUndefined();
    expect(metric(e, "entries_per_sec")).toBe(Number(lastDone("mkdirs", "MKDIRS")["entries/s"]));
    expect(e.validation).toStrictEqual({ status: "passed", checks: {} });
  });

  it("reads JSON numbers too, should a later elbencho write them", () => {
    expect(evaluateCase("elbencho", "numbers-not-strings", { operation: "write" }).status).toBe("passed");
  });

  it.each([
    ["missing-phase", "invalid", "results file has no WRITE phase (has MKDIRS)"],
    [
      "error",
      "failed",
      "elbencho exited with code 1: ERROR: Unable to open benchmark path: /nonexistent/bench; SysErr: No such file or directory",
    ],
    ["truncated", "invalid", "results file: output is truncated: the JSON document ends early"],
    ["empty", "invalid", "the JSON results file is empty"],
    ["hostile", "invalid", "the WRITE phase has no elapsed_time_ms"],
  ])("%s → %s: %s", (name, status, reason) => {
    const e = evaluateCase("elbencho", name, { operation: operation(name) });
    expect([e.status, e.reason]).toStrictEqual([status, reason]);
  });
});

describe("elbencho adapter invocation", () => {
  const scratch = scratchDir("elbencho");
  afterAll(() => scratch.remove());

  it("runs one operation with latency, no live view, and the JSON results file", async () => {
    const adapter = createElbenchoAdapter({ binary: "elbencho" });
    const params = {
      operation: "write",
      threads: 4,
      block_size: "1M",
      file_size: "64M",
      files: 4,
      dirs: 1,
      direct: true,
    };
    const prepared = await adapter.prepare(params, runContext(scratch.dir), "/opt/elbencho/bin/elbencho");
    const [target, ...rest] = prepared.invocation.args;
    const results = prepared.outputFiles!["results.json"]!;
    expect(existsSync(target!)).toBe(true);
    expect(rest).toStrictEqual([
      "-d",
      "-w",
      "-t",
      "4",
      "-b",
      "1M",
      "-s",
      "64M",
      "-N",
      "4",
      "-n",
      "1",
      "--direct",
      "--lat",
      "--nolive",
      "--jsonfile",
      results,
    ]);
    await prepared.cleanup();
    expect(existsSync(target!)).toBe(false);
  });

  it("runs where elbencho is installed; elsewhere the Result says it is not", async () => {
    const installed = await findExecutable("elbencho");
    const test = planTest("elbencho", "ElbenchoContract", {
      operation: "write",
      file_size: "4M",
      block_size: "1M",
    });
    const r = validResult(await runTest(test, contracts, runContext(join(scratch.dir))));
    if (installed) {
      expect(r.status, r.reason).toBe("passed");
    } else {
      console.info(
        "elbencho is not installed here (not in Debian): only its recorded-format fixtures were parsed",
      );
      expect(r.status).toBe("skipped");
      expect(r.reason).toBe(
        "tool not installed: elbencho (elbencho not found on PATH; not packaged in Debian)",
      );
    }
  });
});
