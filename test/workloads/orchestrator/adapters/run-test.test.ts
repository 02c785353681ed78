import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { loadCatalog } from "../../../../tiers/catalog.js";
import { compileContract } from "../../../../tiers/contracts/compile.js";
import { ContractSpec } from "../../../../tiers/schema/contract.js";
import type { ToolAdapter } from "../../../../workloads/orchestrator/adapters/adapter.js";
import { createCommandAdapter } from "../../../../workloads/orchestrator/adapters/command.js";
import { evaluateOutput } from "../../../../workloads/orchestrator/adapters/evaluate.js";
import { createAdapter } from "../../../../workloads/orchestrator/adapters/registry.js";
import { assembleResult } from "../../../../workloads/orchestrator/adapters/result.js";
import { runTest } from "../../../../workloads/orchestrator/adapters/run-test.js";
import { isAlive } from "../../../../workloads/orchestrator/process/proc.js";
import { planTest, runContext, scratchDir, validResult } from "../../support/context.js";
import { waitFor } from "../../support/wait.js";

/** A user contract for shell snippets: `sh -c <script>`, a number printed as JSON. */
const contracts = {
  ...loadCatalog().contracts,
  ShellContract: ContractSpec.parse({
    tool: "command",
    parameters: {
      command: { type: "string", default: "sh" },
      args: { type: "string" },
      dir: { type: "string" },
    },
    results: { value: { type: "float", required: true } },
    rules: { value: { max: 10 } },
  }),
};

const scratch = scratchDir("run-test");
afterAll(() => scratch.remove());
const ctx = runContext(scratch.dir, {
  cycleId: "cycle-42",
  environment: "env-a",
  phase: "heavy",
  attempt: 2,
});
const shell = (script: string, timeoutMs = 20_000) =>
  planTest(
    "command",
    "ShellContract",
    { args: `-c '${script}'`, dir: scratch.dir },
    { timeoutMs, name: "shell", rules: { value: { max: 10 } } },
  );
const pids = (file: string): number[] =>
  readFileSync(join(scratch.dir, file), "utf8").trim().split(/\s+/).map(Number);

describe("a Result carries the test, the cycle and the run", () => {
  it("ids, environment, phase, attempt, tool, parameters with defaults, timings, raw references", async () => {
    const r = validResult(await runTest(shell(`echo "{\\"value\\": 3}"`), contracts, ctx));
    expect(r).toMatchObject({
      test_id: "baseline/shell",
      test_name: "shell",
      cycle_id: "cycle-42",
      environment: "env-a",
      phase: "heavy",
      attempt: 2,
      tool: { name: "command", version: null },
      contract: "ShellContract",
      parameters: { command: "sh", args: `-c 'echo "{\\"value\\": 3}"'` },
      metrics: { value: { value: 3 } },
      validation: { status: "passed", checks: { value_check: "passed" } },
      status: "passed",
      errors: [],
      exit_code: 0,
      raw: { stdout: `raw/${r.result_id}.stdout` },
    });
    expect(r.reason).toBeUndefined();
    expect(Date.parse(r.timings.ended_at) - Date.parse(r.timings.started_at)).toBeCloseTo(
      r.timings.duration_ms,
      -1,
    );
  });

  it("keeps the raw output byte for byte, even when it is not UTF-8", async () => {
    const r = validResult(await runTest(shell(String.raw`printf "\377\376{\"value\": 1}"`), contracts, ctx));
    expect(r.status).toBe("invalid");
    const kept = readFileSync(join(ctx.rawDir, `${r.result_id}.stdout`));
    expect([...kept.subarray(0, 2)]).toStrictEqual([0xff, 0xfe]);
  });

  it("a raw directory it cannot write: the Result still comes back, saying what was not kept", async () => {
    const blocker = join(scratch.dir, "not-a-dir");
    writeFileSync(blocker, "");
    const r = validResult(
      await runTest(shell(`echo "{\\"value\\": 1}"`), contracts, { ...ctx, rawDir: join(blocker, "raw") }),
    );
    expect(r.status).toBe("passed");
    expect(r.raw).toStrictEqual({});
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(/^raw output not kept: ENOTDIR/);
  });
});

describe("bad input before the run: the tool is not run", () => {
  it.each([
    [
      "a value out of range",
      planTest("iperf3", "IperfContract", { duration: 0 }),
      "parameters break contract IperfContract: duration: out of range (got 0, expected a value >= 1)",
    ],
    [
      "a pattern mismatch and an unknown parameter, all at once",
      planTest("iperf3", "IperfContract", { bandwidth: "fast", streams: 4 }),
      'parameters break contract IperfContract: bandwidth: does not match the pattern (got "fast", expected a string matching /^\\d+[MGT]$/); streams: unknown parameter (got "streams", expected one of duration, parallel_streams, bandwidth, protocol, reverse, server, port)',
    ],
    [
      "a wrong type",
      planTest("fio", "FioContract", { runtime: "long" }),
      'parameters break contract FioContract: runtime: wrong type (got "long", expected a number)',
    ],
    [
      "a contract the plan does not carry",
      planTest("fio", "NoSuchContract", {}),
      "contract NoSuchContract is not in the plan",
    ],
  ])("%s → invalid", async (_what, test, reason) => {
    const r = validResult(await runTest(test, contracts, ctx));
    expect(r.status).toBe("invalid");
    expect(r.reason).toBe(reason);
    expect(r.raw).toStrictEqual({});
    expect(r.exit_code).toBeNull();
    expect(r.validation).toStrictEqual({ status: "failed", checks: {} });
  });

  it("a tool binary that is not there → skipped, naming the path and the package", async () => {
    const r = validResult(
      await runTest(planTest("iperf3", "IperfContract", { duration: 1 }), contracts, {
        ...ctx,
        tools: { iperf3: "/nonexistent/bin/iperf3" },
      }),
    );
    expect(r.status).toBe("skipped");
    expect(r.reason).toBe(
      "tool not installed: iperf3 (/nonexistent/bin/iperf3 is not an executable file; Debian package iperf3)",
    );
  });

  it("a tool missing from PATH → skipped", async () => {
    const r = validResult(
      await runTest(planTest("fio", "FioContract", {}), contracts, { ...ctx, path: "/nonexistent" }),
    );
    expect(r.status).toBe("skipped");
    expect(r.reason).toBe("tool not installed: fio (fio not found on PATH; Debian package fio)");
  });
});

describe("a tool that fails, hangs or floods", () => {
  it("exits non-zero → failed, with its exit code and the line of stderr that says why", async () => {
    const r = validResult(
      await runTest(
        shell(`echo usage >&2; echo "boom: cannot open /x" >&2; echo more >&2; exit 4`),
        contracts,
        ctx,
      ),
    );
    expect([r.status, r.reason, r.exit_code]).toStrictEqual([
      "failed",
      "command exited with code 4: boom: cannot open /x",
      4,
    ]);
    expect(r.raw.stderr).toBe(`raw/${r.result_id}.stderr`);
  });

  it("is killed by a signal → failed, naming it", async () => {
    const r = validResult(await runTest(shell("kill -9 $$"), contracts, ctx));
    expect([r.status, r.reason, r.exit_code]).toStrictEqual([
      "failed",
      "command was killed by SIGKILL",
      null,
    ]);
  });

  it("hangs past its timeout → failed, and its whole process tree is gone", async () => {
    const test = shell(`sleep 300 & echo $$ $! > {dir}/hang.pids; sleep 300`, 800);
    const r = validResult(await runTest(test, contracts, ctx));
    expect(r.status).toBe("failed");
    expect(r.reason).toBe("timed out after 800 ms; the tool's process tree was stopped");
    const [shellPid, backgroundPid] = pids("hang.pids");
    expect(isAlive(shellPid!)).toBe(false);
    expect(isAlive(backgroundPid!)).toBe(false);
  });

  it("ignores SIGTERM → SIGKILL after the grace period", async () => {
    const test = shell(`trap "" TERM; echo $$ > {dir}/stubborn.pid; while :; do sleep 0.05; done`, 500);
    const r = validResult(await runTest(test, contracts, ctx, { killGraceMs: 300 }));
    expect(r.reason).toBe("timed out after 500 ms; the tool's process tree was stopped");
    expect(isAlive(pids("stubborn.pid")[0]!)).toBe(false);
  });

  it("leaves a background child behind after exiting → the child is killed, the run does not wait for it", async () => {
    const r = validResult(
      await runTest(shell(`sleep 300 & echo $! > {dir}/orphan.pid; echo "{\\"value\\": 2}"`), contracts, ctx),
    );
    expect(r.status, r.reason).toBe("passed");
    expect(r.timings.duration_ms).toBeLessThan(30_000);
    await waitFor("the orphan to be gone", () => !isAlive(pids("orphan.pid")[0]!));
  });

  it("floods its output → invalid once past the limit, and stopped", async () => {
    const r = validResult(await runTest(shell("yes flood"), contracts, ctx, { maxOutputBytes: 1024 * 1024 }));
    expect([r.status, r.reason]).toStrictEqual(["invalid", "output exceeded 1 MiB; the tool was stopped"]);
  });

  it("is cancelled while it runs → failed with the reason, tree stopped", async () => {
    const controller = new AbortController();
    const running = runTest(shell(`echo $$ > {dir}/cancel.pid; sleep 300`), contracts, {
      ...ctx,
      signal: controller.signal,
    });
    const pid = await waitFor("the tool to start", () => {
      try {
        return pids("cancel.pid")[0];
      } catch {
        return undefined;
      }
    });
    controller.abort(new Error("cycle interrupted (SIGINT)"));
    const r = validResult(await running);
    expect([r.status, r.reason]).toStrictEqual(["failed", "cancelled: cycle interrupted (SIGINT)"]);
    expect(isAlive(pid)).toBe(false);
  });

  it("is cancelled before it starts → failed, never run", async () => {
    const r = validResult(
      await runTest(shell(`echo ran > {dir}/should-not-exist`), contracts, {
        ...ctx,
        signal: AbortSignal.abort("phase over"),
      }),
    );
    expect([r.status, r.reason, r.raw]).toStrictEqual([
      "failed",
      "cancelled before it started: phase over",
      {},
    ]);
  });

  it("an adapter that throws while parsing → invalid, never an exception", async () => {
    const adapter: ToolAdapter = {
      ...createCommandAdapter({ binary: null }),
      parse: () => {
        throw new Error("parser bug");
      },
    };
    const r = validResult(await runTest(shell(`echo "{}"`), contracts, ctx, { adapter }));
    expect([r.status, r.reason]).toStrictEqual(["invalid", "output could not be read: parser bug"]);
  });
});

describe("properties", () => {
  it("whatever a tool prints and however it exits, every adapter's verdict makes a valid Result", () => {
    const catalog = loadCatalog();
    const tools = ["http-load", "iperf3", "fio", "stress-ng", "elbencho"] as const;
    const text = fc.oneof(
      fc.string(),
      fc.json(),
      fc.jsonValue().map((v) => JSON.stringify({ end: v, jobs: [v], autocannon: v })),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...tools),
        text,
        text,
        fc.option(fc.integer({ min: -1, max: 255 })),
        (tool, stdout, file, exitCode) => {
          const name = catalog.tools[tool].default_contract!;
          const contract = compileContract(name, catalog.contracts[name]!);
          const raw = { stdout, stderr: "", exitCode, files: { "metrics.yaml": file, "results.json": file } };
          const e = evaluateOutput(createAdapter(tool), contract, contract.rules, {}, raw, {
            endedBy: "exit",
            exitCode,
            signal: null,
            timeoutMs: 1,
          });
          const r = assembleResult({
            resultId: randomUUID(),
            test: { id: "idle/x", name: "x", tool, contract: name },
            ctx: { cycleId: "c", environment: "e", phase: "idle" },
            outcome: { ...e, version: null, parameters: {}, raw: {}, exitCode },
            startedAt: new Date(0),
            durationMs: 0,
          });
          // The verdict itself validated: assembleResult only rewrites a Result that does not.
          expect(r.reason ?? "").not.toMatch(/^internal error/);
          expect(r.status === "passed").toBe(
            e.validation.status === "passed" && exitCode === 0 && e.reason === undefined,
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});
