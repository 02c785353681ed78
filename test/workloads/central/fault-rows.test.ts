import { describe, expect, it } from "vitest";
import { faultRows } from "../../../workloads/central/import/rows.js";
import type { CycleEvent } from "../../../workloads/shared/cycle.js";

const ev = (
  ts: number,
  kind: string,
  scenario: string,
  detail: Record<string, unknown> = {},
): CycleEvent => ({
  ts_ms: ts,
  phase: "chaos",
  kind,
  scenario,
  detail,
});

describe("faultRows", () => {
  it("stores each fault's window with the detection and recovery of its fault.recovery event", () => {
    const rows = faultRows(7, [
      ev(1000, "fault.applied", "pod_kill"),
      ev(1500, "fault.undone", "pod_kill"),
      ev(1600, "fault.recovery", "pod_kill", { detection_ms: 120, recovery_ms: 2300 }),
      ev(2000, "fault.applied", "clock_skew"),
      ev(2500, "fault.undone", "clock_skew"),
      ev(2600, "fault.recovery", "clock_skew", { detection_ms: null, recovery_ms: null }),
      ev(3000, "fault.applied", "disk_failure"),
      ev(3400, "fault.undone", "disk_failure"),
    ]);
    expect(
      rows.map((r) => [r.scenario, r.applied_ms, r.undone_ms, r.detection_ms, r.recovery_ms]),
    ).toStrictEqual([
      ["pod_kill", 1000, 1500, 120, 2300],
      ["clock_skew", 2000, 2500, null, null],
      ["disk_failure", 3000, 3400, null, null],
    ]);
  });
});
