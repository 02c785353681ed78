import { describe, expect, it } from "vitest";
import { loadCatalog } from "../../../tiers/catalog.js";
import { compilePlan } from "../../../tiers/plan/compile.js";
import { resolvePlanOptions } from "../../../tiers/plan/options.js";
import {
  abortReason,
  evaluateGate,
  type PhaseObservation,
} from "../../../workloads/orchestrator/controller/gate.js";

const plan = compilePlan({
  resolved: resolvePlanOptions({ defaults: {}, cli: { tier: "chaos" } }),
  catalog: loadCatalog(),
});
const phase = (name: string) => plan.environments[0]!.phases.find((p) => p.name === name)!;

const healthy: PhaseObservation = {
  error_rate: 0.001,
  p95_latency_ms: 40,
  cpu: { mean: 15, p95: 19 },
  memory: { mean: 25, p95: 27 },
  sut_down: false,
  recovered_after_ms: null,
  contract_failures: 0,
};

describe("phase gates", () => {
  it("passes a healthy baseline phase with every rule evaluated", () => {
    const gate = evaluateGate(phase("baseline"), healthy);
    expect(gate.verdict).toBe("passed");
    expect(gate.rules.map((r) => [r.source, r.outcome])).toStrictEqual([
      ["rollback:version_rollback", "pass"],
      ["alert:HighLatency", "pass"],
      ["sut_down", "pass"],
      ["contract_failed", "pass"],
      ["band_missed", "pass"],
    ]);
  });

  it.each([
    [
      "errors above the version-rollback trigger (10 %)",
      { error_rate: 0.11 },
      "aborted",
      "rollback:version_rollback",
    ],
    ["p95 above HighLatency's 1 s", { p95_latency_ms: 1001 }, "aborted", "alert:HighLatency"],
    ["the SUT down", { sut_down: true }, "aborted", "sut_down"],
    ["a contract failure", { contract_failures: 2 }, "warned", "contract_failed"],
    ["CPU below the band", { cpu: { mean: 5, p95: 6 } }, "warned", "band_missed"],
  ] as const)("%s → %s", (_name, change, verdict, source) => {
    const gate = evaluateGate(phase("baseline"), { ...healthy, ...change });
    expect(gate.verdict).toBe(verdict);
    expect(gate.rules.filter((r) => r.outcome === "fail").map((r) => r.source)).toStrictEqual([source]);
  });

  it("marks a rule not evaluated, never passed, when its figure was not measured", () => {
    const gate = evaluateGate(phase("idle"), {
      ...healthy,
      error_rate: null,
      p95_latency_ms: null,
      cpu: null,
      memory: null,
    });
    const errorRule = gate.rules.find((r) => r.source === "rollback:version_rollback")!;
    expect(errorRule.outcome).toBe("not_evaluated");
    expect(errorRule.note).toBe("no error_rate was measured in this phase");
    expect(gate.verdict).toBe("passed");
  });

  it("in the chaos phase tolerates errors but aborts on a cascade or a SUT that does not come back", () => {
    const chaos = phase("chaos");
    expect(evaluateGate(chaos, { ...healthy, error_rate: 0.3, recovered_after_ms: 1200 }).verdict).toBe(
      "passed",
    );
    expect(evaluateGate(chaos, { ...healthy, error_rate: 0.51, recovered_after_ms: 1200 }).verdict).toBe(
      "aborted",
    );
    const late = evaluateGate(chaos, { ...healthy, recovered_after_ms: null });
    expect(late.verdict).toBe("aborted");
    expect(abortReason("chaos", late)).toBe(
      "gate after phase chaos aborted the cycle: sut_not_recovered: the SUT was not healthy again after the faults were undone",
    );
  });

  it("names the failing figures in the abort reason", () => {
    const gate = evaluateGate(phase("heavy"), { ...healthy, error_rate: 0.2, p95_latency_ms: 1500 });
    expect(abortReason("heavy", gate)).toBe(
      "gate after phase heavy aborted the cycle: error_rate 0.2 > 0.1 (rollback:version_rollback); p95_latency_ms 1500 > 1000 (alert:HighLatency)",
    );
  });
});
