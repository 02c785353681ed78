import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { isAlive } from "../../../workloads/orchestrator/process/proc.js";
import { SutSupervisor } from "../../../workloads/sut/supervisor.js";
import { get } from "../support/sut.js";
import { waitFor } from "../support/wait.js";

const MAIN = join(dirname(fileURLToPath(import.meta.url)), "../../../workloads/sut/main.ts");

describe("the SUT's entry", () => {
  it.each([
    [["--port", "http"], '--port: expected a number from 0 to 65535 (got "http")'],
    [["--port", "0", "--error-rate", "1.5"], '--error-rate: expected a number from 0 to 1 (got "1.5")'],
    [["--port", "0", "--colour", "red"], "Unknown option '--colour'"],
  ])("%j exits 2: %s", async (args, message) => {
    const run = promisify(execFile)(process.execPath, ["--import", "tsx", MAIN, ...args]);
    await expect(run).rejects.toMatchObject({ code: 2 });
    const error = (await run.catch((e: unknown) => e)) as { stderr: string };
    expect((JSON.parse(error.stderr) as { message: string }).message).toContain(message);
  });
});

describe("the SUT supervisor", () => {
  const started: SutSupervisor[] = [];
  afterEach(async () => {
    for (const s of started.splice(0)) await s.stop();
  });
  const supervise = async (options: ConstructorParameters<typeof SutSupervisor>[0] = {}) => {
    const events: { kind: string; detail: Record<string, unknown> }[] = [];
    const sut = new SutSupervisor({ ...options, onEvent: (kind, detail) => events.push({ kind, detail }) });
    started.push(sut);
    await sut.start();
    return { sut, events };
  };

  it("starts the SUT on a free loopback port and reports it", async () => {
    const { sut, events } = await supervise();
    expect(sut.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(JSON.parse((await get(sut.url, "/healthz")).body)).toMatchObject({ status: "ok", pid: sut.pid });
    expect(events.map((e) => e.kind)).toStrictEqual(["sut.started"]);
  });

  it("restarts a killed SUT on the same port and records the downtime", async () => {
    const { sut, events } = await supervise();
    const url = sut.url;
    const first = sut.pid!;
    process.kill(first, "SIGKILL");
    const second = await sut.waitReady({ notPid: first });
    expect(second).not.toBe(first);
    expect(sut.url).toBe(url);
    expect((await get(url, "/healthz")).status).toBe(200);
    expect(events.map((e) => e.kind)).toStrictEqual([
      "sut.started",
      "sut.exited",
      "sut.started",
      "sut.restarted",
    ]);
    expect(events[1]!.detail).toMatchObject({ pid: first, signal: "SIGKILL" });
    expect(events[3]!.detail).toMatchObject({ pid: second, previous_pid: first, restarts: 1 });
    expect(events[3]!.detail.downtime_ms as number).toBeGreaterThan(0);
    expect(sut.restarts).toBe(1);
  });

  it("stop() ends it for good, even while it is paused", async () => {
    const { sut } = await supervise();
    const pid = sut.pid!;
    process.kill(pid, "SIGSTOP");
    await sut.stop();
    expect(isAlive(pid)).toBe(false);
    expect(sut.pid).toBeUndefined();
  });

  it("a SUT that cannot start says why", async () => {
    const { sut: holder } = await supervise();
    const port = Number(new URL(holder.url).port);
    const clash = new SutSupervisor({ port, restartDelayMs: 50, readyTimeoutMs: 1500 });
    started.push(clash);
    await expect(clash.start()).rejects.toThrow(
      /the SUT was not ready within 1500 ms; it said: .*EADDRINUSE/,
    );
    await clash.stop();
    await waitFor("no restart pending", () => clash.pid === undefined);
  });
});
