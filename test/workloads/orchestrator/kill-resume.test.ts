import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { seededRandom } from "../../../tiers/plan/random.js";
import { EnvStore } from "../../../workloads/orchestrator/storage/env-store.js";
import { testPlan } from "../../helpers/orchestrator.js";
import { runOrchestrator } from "../../helpers/orchestrator-cli.js";

const dir = mkdtempSync(join(tmpdir(), "tiers-kill-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const runCycle = (args: string[], killAfterMs?: number) =>
  runOrchestrator(["run-cycle", ...args], killAfterMs);

describe("kill -9 at random points, then --resume", () => {
  it("commits exactly the uninterrupted run's test list, each once, with a sound database", async () => {
    const plan = testPlan({ tier: "base", time_scale: "0.004", load_scale: "0.1" });
    const planFile = join(dir, "plan.json");
    writeFileSync(planFile, JSON.stringify(plan));
    const env = plan.environments[0]!;
    const expected = env.phases.flatMap((p) => [
      ...(p.load.kind === "none" ? [] : [`${p.name}/load`]),
      ...p.tests.map((t) => t.id),
    ]);
    const args = [planFile, "--data-dir", join(dir, "data"), "--env", env.id];

    const random = seededRandom(20261122);
    const kills: { at_ms: number; killed: boolean }[] = [];
    for (let i = 0; i < 10; i++) {
      const at = Math.round(400 + random() * 7000);
      const run = await runCycle(i === 0 ? args : [...args, "--resume"], at);
      kills.push({ at_ms: at, killed: run.signal === "SIGKILL" });
      if (run.signal !== "SIGKILL") {
        // It finished before the kill: every later point would find nothing to resume.
        expect(run.stdout).toMatch(/"event":"cycle.ended"/);
        break;
      }
    }
    console.log(
      `kill points (ms after start): ${kills.map((k) => `${k.at_ms}${k.killed ? "" : " (finished first)"}`).join(", ")}`,
    );
    expect(kills.filter((k) => k.killed).length).toBeGreaterThanOrEqual(5);

    const last = await runCycle([...args, "--resume"]);
    // stderr holds only the structured log (pino JSON lines), none of it an error.
    const logged = last.stderr
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l) as { level: number; msg: string });
    expect(logged.filter((r) => r.level >= 50)).toStrictEqual([]);
    // The resume ends the cycle, unless a run above already finished it (then it has nothing to do).
    if (kills.every((k) => k.killed)) expect(logged.map((r) => r.msg)).toContain("cycle.ended");
    const store = EnvStore.open(join(dir, "data", "env.db"));
    try {
      const cycles = store.listCycles();
      expect(cycles).toHaveLength(1);
      const cycle = cycles[0]!;
      expect(cycle.status).toBe("completed");
      const results = [...store.results(cycle.cycle_id)];
      expect(results.map((r) => r.test_id).sort()).toStrictEqual([...expected].sort());
      expect(new Set(results.map((r) => r.result_id)).size).toBe(results.length);
      expect(store.phases(cycle.cycle_id).map((p) => p.status)).toStrictEqual(
        env.phases.map(() => "completed"),
      );
      expect(store.integrityCheck()).toBe("ok");
      expect(cycle.resumes).toBeGreaterThanOrEqual(1);
    } finally {
      store.close();
    }
  }, 300_000);
});

describe("an orchestrator killed alone (not its group)", () => {
  it("leaves no SUT behind: the SUT notices its supervisor is gone and exits", async () => {
    const plan = testPlan({ tier: "base", time_scale: "0.01", load_scale: "0.1" });
    const planFile = join(dir, "alone-plan.json");
    writeFileSync(planFile, JSON.stringify(plan));
    const dataDir = join(dir, "alone-data");
    const bin = fileURLToPath(new URL("../../../bin/orchestrator.js", import.meta.url));
    const child = spawn(
      process.execPath,
      [bin, "run-cycle", planFile, "--data-dir", dataDir, "--env", "env-1"],
      {
        stdio: ["ignore", "pipe", "ignore"],
      },
    );
    // Wait until the cycle runs (its SUT is up), then kill the orchestrator process only.
    await new Promise<void>((resolve) =>
      child.stdout.on("data", (d: Buffer) => d.toString().includes("cycle.started") && resolve()),
    );
    const mentions = (): number[] =>
      readdirSync("/proc")
        .filter((p) => /^\d+$/.test(p))
        .filter((p) => {
          try {
            return readFileSync(`/proc/${p}/cmdline`, "utf8").includes(dataDir);
          } catch {
            return false;
          }
        })
        .map(Number);
    expect(mentions().length).toBeGreaterThanOrEqual(2); // the orchestrator and its SUT
    child.kill("SIGKILL");
    const deadline = Date.now() + 10_000;
    while (mentions().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(mentions()).toStrictEqual([]);
  }, 60_000);
});
