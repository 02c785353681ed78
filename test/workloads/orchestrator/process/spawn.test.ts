import { describe, expect, it } from "vitest";
import { runToCompletion, startRunning } from "../../../../workloads/orchestrator/process/spawn.js";
import { isAlive } from "../../../../workloads/orchestrator/process/proc.js";
import { waitFor } from "../../support/wait.js";

const text = (b: Uint8Array): string => Buffer.from(b).toString("utf8");

describe("running a tool to completion", () => {
  it.each([
    [
      "exit 0 with output",
      ["-c", "echo out; echo err >&2"],
      { exitCode: 0, endedBy: "exit", stdout: "out\n", stderr: "err\n" },
    ],
    ["exit 3", ["-c", "exit 3"], { exitCode: 3, endedBy: "exit", stdout: "", stderr: "" }],
  ])("%s", async (_name, args, expected) => {
    const done = await runToCompletion({ file: "sh", args }, { timeoutMs: 10_000 });
    expect({
      exitCode: done.exitCode,
      endedBy: done.endedBy,
      stdout: text(done.stdout),
      stderr: text(done.stderr),
    }).toStrictEqual(expected);
  });

  it("a program that does not exist is a spawn error, not an exception", async () => {
    const done = await runToCompletion({ file: "/nonexistent/tool", args: [] }, { timeoutMs: 1000 });
    expect([done.endedBy, done.spawnError, done.exitCode]).toStrictEqual(["spawn_error", "ENOENT", null]);
  });

  it("output past the limit stops the tool", async () => {
    const done = await runToCompletion(
      { file: "yes", args: [] },
      { timeoutMs: 10_000, maxOutputBytes: 4096 },
    );
    expect(done.endedBy).toBe("output_limit");
  });

  it("passes the environment and working directory", async () => {
    const done = await runToCompletion(
      { file: "sh", args: ["-c", 'echo "$TIERS_X $(pwd)"'], cwd: "/tmp", env: { TIERS_X: "y" } },
      { timeoutMs: 5000 },
    );
    expect(text(done.stdout)).toBe("y /tmp\n");
  });
});

describe("long-running helpers", () => {
  it("streams lines and stops on request", async () => {
    const running = startRunning({ file: "sh", args: ["-c", "echo ready; sleep 60"] });
    const lines: string[] = [];
    running.onLine((l) => lines.push(l));
    await waitFor("the ready line", () => lines.includes("ready"));
    await running.stop(500);
    expect(isAlive(running.pid)).toBe(false);
    expect((await running.exited).signal).toBe("SIGTERM");
  });

  it("a helper that cannot start throws", () => {
    expect(() => startRunning({ file: "/nonexistent/helper", args: [] })).toThrow(
      "could not start /nonexistent/helper",
    );
  });
});
