import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seededRandom } from "../../../tiers/plan/random.js";
import { ExitCode } from "../../../tiers/errors.js";
import { EnvStore } from "../../../workloads/orchestrator/storage/env-store.js";
import { testPlan } from "../../helpers/orchestrator.js";
import { runOrchestrator, type OrchestratorRun } from "../../helpers/orchestrator-cli.js";

const dir = mkdtempSync(join(tmpdir(), "tiers-cycle-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The chaos tier runs all seven phases: 8,400 s of seed time scaled to ~30 s, relative load.
const plan = testPlan({ tier: "chaos", time_scale: "0.0036", load_mode: "relative" });
const env = plan.environments[0]!;
const dataDir = join(dir, "data");
let run: OrchestratorRun;

beforeAll(async () => {
  const planFile = join(dir, "plan.json");
  writeFileSync(planFile, JSON.stringify(plan));
  // Killed (its whole group) before the hook's timeout, so a hung run leaves nothing behind.
  run = await runOrchestrator(["run-cycle", planFile, "--data-dir", dataDir, "--env", env.id], 230_000);
}, 240_000);

describe("a real short cycle: all seven phases against the sample SUT with real tools", () => {
  it("runs every phase in order, gates each, and ends with a recorded verdict", () => {
    // stderr holds only the structured log (pino JSON lines), none of it an error.
    const logged = run.stderr
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l) as { level: number; msg: string });
    expect(logged.filter((r) => r.level >= 50)).toStrictEqual([]);
    expect(logged.map((r) => r.msg)).toContain("cycle.ended");
    const ended = run.events.find((e) => e.event === "cycle.ended")!;
    // The chaos phase's gate judges what the faults did; either verdict is a measured outcome.
    expect([ExitCode.Ok, ExitCode.GateFailed]).toContain(run.code);
    expect(ended.status).toBe(run.code === ExitCode.Ok ? "completed" : "aborted");
    expect(run.events.filter((e) => e.event === "phase").map((e) => [e.name, e.status])).toStrictEqual(
      env.phases.map((p) => [p.name, "completed"]),
    );
  });

  it("stores every planned test and each phase's load, with real figures, and the SUT's samples", () => {
    const store = EnvStore.open(join(dataDir, "env.db"));
    try {
      const cycle = store.listCycles()[0]!;
      expect(cycle.calibration!.saturation_rps).toBeGreaterThan(0);
      const results = [...store.results(cycle.cycle_id)];
      const planned = env.phases.flatMap((p) => p.tests.map((t) => t.id));
      const ids = results.map((r) => r.test_id);
      for (const id of planned) expect(ids).toContain(id);
      for (const p of env.phases.filter((x) => x.load.kind === "constant")) {
        const load = results.find((r) => r.test_id === `${p.name}/load`)!;
        expect(load.metrics.requests!.value as number).toBeGreaterThan(0);
        expect(load.metrics.latency_p99!.value as number).toBeGreaterThan(0);
      }
      expect(ids.filter((id) => id.startsWith("chaos/load@")).length).toBeGreaterThanOrEqual(3);
      const iperf = results.find((r) => r.tool.name === "iperf3")!;
      expect(iperf.status, `${iperf.test_id}: ${JSON.stringify(iperf.errors)}`).toBe("passed");
      expect(iperf.metrics.bandwidth!.value as number).toBeGreaterThan(1e8);
      const series = new Set([...store.samples(cycle.cycle_id)].map((s) => `${s.phase}:${s.series}`));
      for (const p of env.phases) expect(series.has(`${p.name}:sut.cpu_pct`)).toBe(true);
      for (const p of env.phases.filter((x) => x.load.kind !== "none"))
        expect(series.has(`${p.name}:load.rps`)).toBe(true);
      const summaries = store.phases(cycle.cycle_id).map((p) => p.summary!);
      for (const s of summaries.filter((x) => x.name !== "idle"))
        expect(s.load.achieved_rps).toBeGreaterThan(0);
      expect(summaries.every((s) => s.gate.rules.length > 0)).toBe(true);
    } finally {
      store.close();
    }
  });

  it("injects and undoes every chaos scenario (or says why one was skipped)", () => {
    const store = EnvStore.open(join(dataDir, "env.db"));
    try {
      const events = [...store.events(store.listCycles()[0]!.cycle_id)].filter((e) => e.phase === "chaos");
      for (const f of env.phases.find((p) => p.name === "chaos")!.faults) {
        const mine = events.filter((e) => e.scenario === f.scenario).map((e) => e.kind);
        if (mine.includes("fault.skipped")) continue;
        expect(mine).toContain("fault.applied");
        expect(mine).toContain("fault.undone");
      }
      expect(events.some((e) => e.kind === "sut.restarted")).toBe(true);
    } finally {
      store.close();
    }
  });

  it("measures each injected fault's detection and recovery against seed 001's targets, as on the cluster", () => {
    const store = EnvStore.open(join(dataDir, "env.db"));
    try {
      const events = [...store.events(store.listCycles()[0]!.cycle_id)].filter((e) => e.phase === "chaos");
      const applied = events.filter((e) => e.kind === "fault.applied").map((e) => e.scenario);
      expect(applied.length).toBeGreaterThan(0);
      const measured: Record<string, number | null>[] = [];
      for (const scenario of applied) {
        const mine = events.filter((e) => e.scenario === scenario);
        const kinds = mine.map((e) => e.kind).filter((k) => k.startsWith("fault.") || k === "sut.recovery");
        expect(kinds, scenario).toStrictEqual([
          "fault.applied",
          "fault.undone",
          "fault.recovery",
          "sut.recovery",
        ]);
        const r = mine.find((e) => e.kind === "fault.recovery")!.detail as Record<string, number | null>;
        expect(r, scenario).toMatchObject({ detection_target_ms: 30_000, recovery_target_ms: 120_000 });
        expect(r.injected_at_ms, scenario).toBe(mine[0]!.ts_ms);
        if (r.detection_ms === null) {
          expect(r.recovery_ms, scenario).toBeNull();
        } else {
          expect(r.detection_ms).toBe(r.first_failed_at_ms! - r.injected_at_ms!);
          if (r.recovery_ms !== null)
            expect(r.recovery_ms).toBe(r.healthy_again_at_ms! - r.first_failed_at_ms!);
        }
        measured.push(r);
      }
      // A fault that stops the SUT answering (a killed or paused SUT) is seen by the probe, and the
      // SUT answers again within the phase.
      const seen = measured.filter((r) => r.detection_ms !== null);
      expect(seen.length, JSON.stringify(measured)).toBeGreaterThan(0);
      expect(
        seen.every((r) => r.recovery_ms !== null),
        JSON.stringify(seen),
      ).toBe(true);
    } finally {
      store.close();
    }
  });

  it("exports a bundle that verify-bundle accepts and refuses after any single byte of it changes", async () => {
    const cycleId = run.events.find((e) => e.event === "cycle.ended")!.cycle_id as string;
    const exported = await runOrchestrator(["export", cycleId, "--data-dir", dataDir, "--env", env.id]);
    expect(exported.code).toBe(ExitCode.Ok);
    const file = exported.events[0]!.file as string;
    const ok = await runOrchestrator(["verify-bundle", file, "--data-dir", dataDir, "--env", env.id]);
    expect(ok.code).toBe(ExitCode.Ok);
    expect(ok.events[0]).toMatchObject({ event: "verified", cycle_id: cycleId });

    const bytes = readFileSync(file);
    const random = seededRandom(4242);
    // Positions across the whole file: the gzip header and trailer, and seeded ones between.
    const positions = [
      0,
      3,
      9,
      bytes.length - 8,
      bytes.length - 1,
      ...Array.from({ length: 11 }, () => Math.floor(random() * bytes.length)),
    ];
    const flipDir = join(dir, "flipped");
    mkdirSync(flipDir, { recursive: true });
    for (const pos of positions) {
      const changed = Buffer.from(bytes);
      changed[pos] = changed[pos]! ^ (1 << Math.floor(random() * 8));
      const path = join(flipDir, `flip-${pos}.tar.gz`);
      writeFileSync(path, changed);
      const refused = await runOrchestrator(["verify-bundle", path, "--data-dir", dataDir, "--env", env.id]);
      expect(refused.code, `byte ${pos}`).toBe(ExitCode.BundleRejected);
      expect(refused.stderr).toMatch(/^error: bundle refused \([a-z_]+\): /);
    }
  }, 180_000);
});

describe("storage that fills up during a cycle", () => {
  const mnt = join(dir, "small");
  let mounted = false;
  beforeAll(() => {
    mkdirSync(mnt, { recursive: true });
    try {
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=400k", "tmpfs", mnt], { stdio: "pipe" });
      mounted = true;
    } catch (error) {
      console.log(
        `full-disk cycle case skipped: cannot mount a tmpfs here (${(error as Error).message.split("\n")[0]})`,
      );
    }
  });
  afterAll(() => {
    if (mounted) execFileSync("umount", ["-l", mnt]);
  });

  it("stops the cycle with a clear error and leaves the database sound", async () => {
    if (!mounted) return;
    const small = testPlan({ tier: "base", time_scale: "0.01", load_scale: "0.5" });
    const planFile = join(dir, "small-plan.json");
    writeFileSync(planFile, JSON.stringify(small));
    const data = join(mnt, "data");
    const r = await runOrchestrator(["run-cycle", planFile, "--data-dir", data, "--env", "env-1"]);
    const ended = r.events.find((e) => e.event === "cycle.ended");
    const said = `${typeof ended?.reason === "string" ? ended.reason : ""} ${r.stderr}`;
    expect(r.code).toBe(ExitCode.Infrastructure);
    expect(said).toMatch(/full|ENOSPC|no space/i);
    expect(readdirSync(data)).toContain("env.db");
    const store = EnvStore.open(join(data, "env.db"));
    try {
      expect(store.integrityCheck()).toBe("ok");
    } catch (error) {
      // Opening may need space for the WAL index; the file itself must still be sound.
      expect(
        execFileSync("sqlite3", [join(data, "env.db"), "PRAGMA integrity_check"])
          .toString()
          .trim(),
      ).toBe("ok");
      void error;
    } finally {
      store.close();
    }
  }, 120_000);
});
