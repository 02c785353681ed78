import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compileContract } from "../../../../tiers/contracts/compile.js";
import { planFromSources } from "../../../../tiers/plan/compile.js";
import type { CyclePlan, PlanTest } from "../../../../tiers/plan/schema.js";
import { ContractSpec } from "../../../../tiers/schema/contract.js";
import {
  commandArgs,
  createCommandAdapter,
  splitWords,
} from "../../../../workloads/orchestrator/adapters/command.js";
import { evaluateOutput } from "../../../../workloads/orchestrator/adapters/evaluate.js";
import { runTest } from "../../../../workloads/orchestrator/adapters/run-test.js";
import { runContext, scratchDir, validResult } from "../../support/context.js";
import { loadCase } from "../../support/fixtures.js";

/** The probe the fixtures recorded prints {stats: {latency_ms, ok}, count, name}. */
const PROBE_SCRIPT =
  'const n = Number(process.argv[1]); console.log(JSON.stringify({ stats: { latency_ms: n * 1.5, ok: true }, count: n, name: "probe" }))';

/** A user's suite file: a contract for the `command` tool written in YAML, and a test using it. */
function suiteYaml(args: string, command = process.execPath): string {
  return `contracts:
  ProbeContract:
    tool: command
    parameters:
      command: { type: string, default: ${JSON.stringify(command)} }
      args: { type: string, default: ${JSON.stringify(args)} }
      count: { type: integer, range: [1, 100], default: 4 }
    results:
      latency: { type: float, unit: ms, from: stats.latency_ms, required: true }
      healthy: { type: boolean, from: stats.ok }
      count: { type: integer, unit: count, required: true }
      name: { type: string }
    rules:
      latency: { max: 100 }
test_suites:
  probes:
    name: Probes
    phases: [baseline]
    tests:
      - name: probe
        tool: command
        contract: ProbeContract
        parameters: { count: 4 }
        validation: { max_latency: 8 }
`;
}

const contract = compileContract(
  "ProbeContract",
  ContractSpec.parse({
    tool: "command",
    parameters: { command: { type: "string" }, args: { type: "string" }, count: { type: "integer" } },
    results: {
      latency: { type: "float", unit: "ms", from: "stats.latency_ms", required: true },
      healthy: { type: "boolean", from: "stats.ok" },
      count: { type: "integer", unit: "count", required: true },
      name: { type: "string" },
    },
    rules: { latency: { max: 100 } },
  }),
);

function evaluateRecorded(name: string) {
  const raw = loadCase("command", name);
  return evaluateOutput(createCommandAdapter({ binary: null }), contract, contract.rules, { count: 4 }, raw, {
    endedBy: "exit",
    exitCode: raw.exitCode,
    signal: null,
    timeoutMs: 1000,
  });
}

describe("argument strings", () => {
  it.each([
    ["a b  c", ["a", "b", "c"]],
    [`-e 'console.log(1 + 2)' x`, ["-e", "console.log(1 + 2)", "x"]],
    [`"a \\"quoted\\" word" 'it''s'`, ['a "quoted" word', "its"]],
    ["back\\ slash", ["back slash"]],
    ["", []],
  ])("%j → %j", (text, words) => {
    expect(splitWords(text)).toStrictEqual({ ok: true, words });
  });

  it.each([
    ["'open", "unterminated ' quote"],
    ['say "hi', 'unterminated " quote'],
  ])("%j is refused: %s", (text, problem) => {
    expect(splitWords(text)).toStrictEqual({ ok: false, problem });
  });

  it("fills {placeholders} with parameters, each as one word (no shell, no splitting)", () => {
    expect(commandArgs({ args: "--n {count} --name={who}", count: 3, who: "a b; rm -rf /" })).toStrictEqual({
      ok: true,
      words: ["--n", "3", "--name=a b; rm -rf /"],
    });
    expect(commandArgs({ args: "--n {nope}" })).toStrictEqual({
      ok: false,
      problem: "{nope} names no parameter of the test",
    });
  });
});

describe("command adapter on recorded outputs", () => {
  it("reads each declared result at its `from` path, with the contract's units", () => {
    const e = evaluateRecorded("probe");
    expect(e.status, e.reason).toBe("passed");
    expect(e.metrics).toStrictEqual({
      latency: { value: 6, unit: "ms" },
      healthy: { value: true },
      count: { value: 4, unit: "count" },
      name: { value: "probe" },
    });
    expect(e.validation).toStrictEqual({ status: "passed", checks: { latency_check: "passed" } });
  });

  it.each([
    ["exit-3", "failed", "command exited with code 3: probe: cannot reach target"],
    ["truncated", "invalid", "output is truncated: the JSON document ends early"],
    ["empty", "invalid", "empty output"],
    ["garbage", "invalid", 'output is not JSON (starts with "\\u0000��\\u001b[31m{\\n�(")'],
    [
      "deep-nesting",
      "invalid",
      "output breaks contract ProbeContract: latency: is required (expected a number); count: is required (expected a number)",
    ],
    ["proto-keys", "invalid", "stats.latency_ms is an object, not a value"],
    [
      "huge-number",
      "invalid",
      "output breaks contract ProbeContract: latency: is required (expected a number)",
    ],
    [
      "wrong-type",
      "invalid",
      'output breaks contract ProbeContract: latency: wrong type (got "fast", expected a number)',
    ],
  ])("%s → %s: %s", (name, status, reason) => {
    const e = evaluateRecorded(name);
    expect([e.status, e.reason]).toStrictEqual([status, reason]);
  });
});

describe("command adapter from a user's suite file, against a real program", () => {
  const scratch = scratchDir("command");
  afterAll(() => scratch.remove());

  function compile(yaml: string): { plan: CyclePlan; test: PlanTest } {
    const file = join(scratch.dir, `suite-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, yaml);
    const plan = planFromSources({
      suitePath: file,
      defaults: { load_mode: "absolute" },
      env: {},
      cli: { tier: "base" },
    });
    const test = plan.environments[0]!.phases.flatMap((p) => p.tests).find((t) => t.name === "probe")!;
    return { plan, test };
  }

  it("runs the program with the test's parameters and applies the contract and the test's own rule", async () => {
    const { plan, test } = compile(suiteYaml(`-e '${PROBE_SCRIPT}' {count}`));
    expect(test.rules).toStrictEqual({ latency: { max: 8 } });
    const r = validResult(await runTest(test, plan.contracts, runContext(scratch.dir)));
    expect(r.status, r.reason).toBe("passed");
    expect(r.parameters).toStrictEqual({
      command: process.execPath,
      args: `-e '${PROBE_SCRIPT}' {count}`,
      count: 4,
    });
    expect(r.metrics.latency).toStrictEqual({ value: 6, unit: "ms" }); // 4 × 1.5
    expect(r.metrics.healthy).toStrictEqual({ value: true });
    expect(r.validation).toStrictEqual({ status: "passed", checks: { latency_check: "passed" } });
  });

  it("a rule the output breaks fails the run with the value and the bound", async () => {
    const { plan, test } = compile(suiteYaml(`-e '${PROBE_SCRIPT}' {count}`));
    const r = validResult(
      await runTest(
        { ...test, parameters: { ...test.parameters, count: 7 } },
        plan.contracts,
        runContext(scratch.dir),
      ),
    );
    expect(r.status).toBe("failed");
    expect(r.reason).toBe("contract rules failed: latency_check (got 10.5 ms, expected <= 8)");
    expect(r.validation).toStrictEqual({ status: "failed", checks: { latency_check: "failed" } });
  });

  it("a program that is not installed is skipped, not a crash", async () => {
    const { plan, test } = compile(suiteYaml("", "no-such-probe-xyz"));
    const r = validResult(await runTest(test, plan.contracts, runContext(scratch.dir)));
    expect(r.status).toBe("skipped");
    expect(r.reason).toBe("tool not installed: command (no-such-probe-xyz not found on PATH)");
  });
});
