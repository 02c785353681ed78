import { describe, expect, it } from "vitest";
import { loadCatalog } from "../../../tiers/catalog.js";
import { compilePlan } from "../../../tiers/plan/compile.js";
import { resolvePlanOptions } from "../../../tiers/plan/options.js";
import {
  abortReason,
  evaluateGate,
  type PhaseObservation,
} from "../../../workloads/orchestrator/controller/gate.js";
import { AUTOMATION_TARGETS } from "../../../workloads/orchestrator/controller/recovery.js";

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

  describe("fault_recovery_missed (seed 001's automation targets, per fault)", () => {
    const fault = (scenario: string, detection: number | null, recovery: number | null) => ({
      scenario,
      injected_at_ms: 1000,
      first_failed_at_ms: detection === null ? null : 1000 + detection,
      healthy_again_at_ms: detection === null || recovery === null ? null : 1000 + detection + recovery,
      detection_ms: detection,
      recovery_ms: recovery,
      probes: 10,
      failed_probes: detection === null ? 0 : 3,
    });
    const rule = () => phase("chaos").gate.find((r) => r.check === "fault_recovery_missed")!;

    it("compiles from the catalog's rollback.automation: detection 30 s, recovery 120 s", () => {
      const a = loadCatalog().monitoring.rollback.automation;
      expect(rule()).toMatchObject({
        action: "warn",
        source: "rollback.automation",
        detect_within_ms: a.detection_time_s * 1000,
        within_ms: a.rollback_time_s * 1000,
      });
      expect(AUTOMATION_TARGETS).toStrictEqual({
        detection_ms: a.detection_time_s * 1000,
        recovery_ms: a.rollback_time_s * 1000,
      });
    });

    it.each([
      [
        "every fault within both limits",
        [fault("pod_kill", 800, 4000), fault("clock_skew", null, null)],
        "pass",
        null,
      ],
      [
        "detected too late",
        [fault("network_partition", 30_001, 100)],
        "fail",
        "network_partition detected after 30001 ms (limit 30000 ms)",
      ],
      [
        "recovered too late",
        [fault("pod_kill", 10, 120_001)],
        "fail",
        "pod_kill recovered after 120001 ms (limit 120000 ms)",
      ],
      ["never healthy again", [fault("disk_failure", 10, null)], "fail", "disk_failure not healthy again"],
    ] as const)("%s → %s", (_name, faults, outcome, note) => {
      const gate = evaluateGate(phase("chaos"), {
        ...healthy,
        recovered_after_ms: 100,
        fault_recoveries: faults,
      });
      const r = gate.rules.find((x) => x.check === "fault_recovery_missed")!;
      expect(r.outcome).toBe(outcome);
      if (note) expect(r.note).toBe(note);
      expect(gate.verdict).toBe(outcome === "pass" ? "passed" : "warned");
    });

    it("is not evaluated when no fault was applied", () => {
      const gate = evaluateGate(phase("chaos"), { ...healthy, recovered_after_ms: 100 });
      const r = gate.rules.find((x) => x.check === "fault_recovery_missed")!;
      expect([r.outcome, r.note]).toStrictEqual(["not_evaluated", "no fault was applied in this phase"]);
    });
  });
});
