import { describe, expect, it } from "vitest";
import { loadCatalog } from "../../tiers/catalog.js";
import { ExitCode } from "../../tiers/errors.js";
import { CyclePlan } from "../../tiers/plan/schema.js";
import { PHASE_NAMES } from "../../tiers/schema/names.js";
import { formatDuration } from "../../tiers/units.js";
import { runTiers } from "../helpers/cli.js";
import { seedPhases, yamlBlock } from "../tiers/seed-source.js";

const catalog = loadCatalog();

describe("tiers plan (real process)", () => {
  it("prints the ultimate plan as JSON: 7 seed phases, 3 regions with roles, Tier 4 sizing", async () => {
    const run = await runTiers(["plan", "ultimate", "--json"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(ExitCode.Ok);
    const plan = CyclePlan.parse(JSON.parse(run.stdout));
    const phases = plan.environments[0]!.phases;
    expect(phases.map((p) => p.name)).toStrictEqual([...PHASE_NAMES]);
    const seed = seedPhases();
    for (const [i, p] of phases.entries()) {
      const s = seed[i]!;
      if (p.load.kind === "constant") {
        expect(p.load.rps).toBe(Number(s.rps));
        expect(p.load.connections).toBe(Number(s.connections));
      }
      if (p.seed_duration_s !== null) expect(p.duration_ms).toBe(p.seed_duration_s * 1000);
    }
    expect(phases[0]!.load).toStrictEqual({ kind: "none" });
    expect(phases[6]!.load.kind).toBe("variable");
    expect(phases[6]!.faults.map((f) => f.scenario).sort()).toStrictEqual(
      [...catalog.phases.chaos.scenarios!].sort(),
    );

    const topology = yamlBlock("regions") as Record<string, { location: string }>;
    expect(plan.regions.map((r) => [r.location, r.roles])).toStrictEqual([
      [topology.primary!.location, ["primary"]],
      [topology.secondary!.location, ["secondary"]],
      [topology.tertiary!.location, ["tertiary"]],
    ]);
    const t4 = yamlBlock("ultimate_tier") as {
      compute: Record<string, string>;
      network: Record<string, string>;
    };
    expect(plan.tier.sizing).toStrictEqual({
      instances: parseInt(t4.compute.instances!, 10),
      instances_at_least: true,
      cpu_cores: parseInt(t4.compute.cpu!, 10),
      memory_gb: parseInt(t4.compute.memory!, 10),
      storage_gb: parseInt(t4.compute.storage!, 10) * 1000,
      storage_media: "nvme",
      bandwidth_gbps: parseInt(t4.network.bandwidth!, 10),
      latency_ms: { min: 1, max: 500 },
      latency_variable: true,
    });
    expect(plan.environments.map((e) => e.region)).toStrictEqual(plan.regions.map((r) => r.location));
  });

  it("prints the base plan as a readable table", async () => {
    const run = await runTiers(["plan", "base"]);
    expect(run.code).toBe(ExitCode.Ok);
    const lines = run.stdout.split("\n");
    expect(lines[0]).toMatch(/^Plan for tier base — Base Testing Layer {3}hash [0-9a-f]{12}$/);
    expect(run.stdout).toContain(
      "Sizing per region: 3 instances × 4 cores, 16 GB memory, 100 GB SSD; network 1 Gbps, latency < 1 ms",
    );
    const phaseRows = lines.filter((l) => /^\d {2}(idle|baseline|light|medium)\b/.test(l));
    expect(phaseRows.map((l) => l.split(/\s+/)[1])).toStrictEqual(["idle", "baseline", "light"]);
    expect(phaseRows[1]).toMatch(/^2 {2}baseline +15m {2}100 rps +50 {2}10-20% +20-30%/);
    const seconds = catalog.tiers.base.phases.reduce((n, p) => n + catalog.phases[p].duration_s!, 0);
    expect(run.stdout).toContain(
      `Total: ${formatDuration(seconds * 1000)} of phases and 5 tests per environment, 1 environment.`,
    );
  });

  it("takes options from the environment, overridden by the command line", async () => {
    const run = await runTiers(["plan", "base", "--json", "--seed", "9"], {
      TIERS_TIME_SCALE: "0.5",
      TIERS_SEED: "3",
    });
    const plan = CyclePlan.parse(JSON.parse(run.stdout));
    expect(plan.options.time_scale).toBe(0.5);
    expect(plan.options.seed).toBe(9);
    expect(plan.totals.phase_time_ms).toBe((300 + 900 + 1200) * 500);
  });

  it.each([
    [
      ["plan", "base", "--time-scale", "abc"],
      ExitCode.InvalidConfig,
      'command line --time-scale: cannot read this value (got "abc", expected a number > 0 and <= 100)',
    ],
    [
      ["plan"],
      ExitCode.InvalidConfig,
      "command line <tier>: no tier given (expected one of base, stress, chaos, ultimate)",
    ],
    [
      ["plan", "stress", "--suite", "/nonexistent/suite.yaml"],
      ExitCode.InvalidConfig,
      "/nonexistent/suite.yaml (file): file not found",
    ],
    [["plam", "base"], ExitCode.Usage, "error: unknown command 'plam'"],
    [["plan", "base", "--colour"], ExitCode.Usage, "error: unknown option '--colour'"],
  ] as const)("%j exits %i and says why", async (args, code, message) => {
    const run = await runTiers(args);
    expect(run.code).toBe(code);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain(message);
  });
});
