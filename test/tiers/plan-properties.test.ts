import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadCatalog } from "../../tiers/catalog.js";
import { ConfigError } from "../../tiers/config/issues.js";
import { compileContract, validateParameters } from "../../tiers/contracts/compile.js";
import { compilePlan, MIN_PHASE_MS } from "../../tiers/plan/compile.js";
import { hashPlan } from "../../tiers/plan/hash.js";
import { resolvePlanOptions } from "../../tiers/plan/options.js";
import { CyclePlan, type LoadProfile } from "../../tiers/plan/schema.js";
import { PHASE_NAMES, TIER_NAMES } from "../../tiers/schema/names.js";

const catalog = loadCatalog();

const optionsArb = fc.record({
  tier: fc.constantFrom(...TIER_NAMES),
  time_scale: fc.double({ min: 1e-4, max: 2, noNaN: true }),
  load_mode: fc.constantFrom("absolute", "relative"),
  load_scale: fc.double({ min: 0.001, max: 10, noNaN: true }),
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  max_connections: fc.integer({ min: 1, max: 100_000 }),
  environments: fc.integer({ min: 1, max: 8 }),
});

/** The load a profile puts on the SUT at its peak, in its own mode's unit. */
function level(load: LoadProfile): number {
  if (load.kind === "none") return 0;
  if (load.kind === "constant") return load.rps ?? load.fraction ?? 0;
  return Math.max(...load.steps.map((s) => s.rps ?? s.fraction ?? 0));
}

describe("every plan the compiler accepts is well formed", () => {
  it("holds for arbitrary tiers, scales, modes, seeds and environment counts", () => {
    fc.assert(
      fc.property(optionsArb, (o) => {
        const resolved = resolvePlanOptions({
          defaults: {},
          cli: Object.fromEntries(Object.entries(o).map(([k, v]) => [k, String(v)])),
        });
        const tier = catalog.tiers[o.tier];
        const seconds = (p: (typeof PHASE_NAMES)[number]) =>
          catalog.phases[p].duration_s ?? catalog.phases[p].default_duration_s!;
        const tooShort = tier.phases.some(
          (p) => Math.round(seconds(p) * 1000 * resolved.options.time_scale) < MIN_PHASE_MS,
        );
        let plan: CyclePlan;
        try {
          plan = compilePlan({ resolved, catalog });
        } catch (error) {
          // The only refusal these inputs can earn is a phase scaled below the minimum.
          expect(error).toBeInstanceOf(ConfigError);
          expect(tooShort).toBe(true);
          return;
        }
        expect(tooShort).toBe(false);
        expect(CyclePlan.safeParse(plan).success).toBe(true);
        expect(plan.hash).toBe(hashPlan(plan));
        expect(compilePlan({ resolved, catalog }).hash).toBe(plan.hash);
        expect(plan.environments).toHaveLength(o.environments);
        expect(new Set(plan.environments.map((e) => e.slug)).size).toBe(o.environments);

        const phases = plan.environments[0]!.phases;
        // phases in the cycle's order, exactly the tier's
        expect(phases.map((p) => p.name)).toStrictEqual(tier.phases);
        expect(phases.map((p) => p.index)).toStrictEqual(tier.phases.map((p) => PHASE_NAMES.indexOf(p)));
        for (const p of phases) {
          // durations scaled exactly
          expect(p.duration_ms).toBe(Math.round(seconds(p.name) * 1000 * resolved.options.time_scale));
          for (const f of p.faults) {
            expect(f.at_ms + f.duration_ms).toBeLessThanOrEqual(p.duration_ms);
          }
          if (p.load.kind === "variable") {
            const at = p.load.steps.map((s) => s.at_ms);
            expect(at).toStrictEqual([...at].sort((a, b) => a - b));
            expect(Math.max(...at)).toBeLessThan(p.duration_ms);
          }
          // every test's parameters are valid for its contract (and already carry the defaults)
          for (const t of p.tests) {
            const contract = compileContract(t.contract, plan.contracts[t.contract]!);
            const checked = validateParameters(contract, t.parameters);
            expect(checked.problems).toStrictEqual([]);
            expect(checked.value).toStrictEqual(t.parameters);
          }
        }
        // load non-decreasing from idle to extreme
        const levels = phases.filter((p) => p.name !== "chaos").map((p) => level(p.load));
        for (let i = 1; i < levels.length; i++) expect(levels[i]).toBeGreaterThanOrEqual(levels[i - 1]!);
        // all environments run the same cycle
        for (const e of plan.environments) expect(e.phases).toStrictEqual(phases);
      }),
      { numRuns: 150 },
    );
  });

  it("accepts a contract parameter exactly inside its range and refuses it outside", () => {
    const iperf = compileContract("IperfContract", catalog.contracts.IperfContract!);
    const [lo, hi] = catalog.contracts.IperfContract!.parameters.duration!.range!;
    fc.assert(
      fc.property(fc.integer({ min: -10_000, max: 10_000 }), (d) => {
        const ok = validateParameters(iperf, { duration: d }).problems.length === 0;
        expect(ok).toBe(d >= lo && d <= hi);
      }),
    );
  });

  it("gives different hashes to different plans and the same hash to the same inputs", () => {
    const plan = (cli: Record<string, string>) =>
      compilePlan({
        resolved: resolvePlanOptions({ defaults: {}, cli: { tier: "chaos", ...cli } }),
        catalog,
      });
    expect(plan({ seed: "7" }).hash).toBe(plan({ seed: "7" }).hash);
    expect(plan({ seed: "7" }).hash).not.toBe(plan({ seed: "8" }).hash);
    expect(plan({ time_scale: "0.5" }).hash).not.toBe(plan({ time_scale: "0.25" }).hash);
  });
});
