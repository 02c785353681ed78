import { randomUUID } from "node:crypto";
import type { Result } from "../../workloads/shared/result.js";

/** A valid Result for storage tests; override what a case needs. */
export function makeResult(over: Partial<Result> & Pick<Result, "cycle_id" | "test_id">): Result {
  const started = new Date("2026-11-22T10:00:00.000Z");
  return {
    result_id: randomUUID(),
    test_name: over.test_id.split("/").pop()!,
    environment: "env-1",
    phase: "baseline",
    tool: { name: "iperf3", version: "3.12" },
    contract: "IperfContract",
    parameters: { duration: 2 },
    metrics: { bandwidth: { value: 9.5e9, unit: "bits/sec" } },
    validation: { status: "passed", checks: { bandwidth_check: "passed" } },
    status: "passed",
    errors: [],
    raw: {},
    timings: {
      started_at: started.toISOString(),
      ended_at: new Date(started.getTime() + 2000).toISOString(),
      duration_ms: 2000,
    },
    exit_code: 0,
    attempt: 1,
    ...over,
  };
}
