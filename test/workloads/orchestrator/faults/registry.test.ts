import { describe, expect, it } from "vitest";
import { CHAOS_SCENARIOS } from "../../../../tiers/schema/names.js";
import { createLocalInjector } from "../../../../workloads/orchestrator/faults/registry.js";

describe("local injectors for the plan's chaos scenarios", () => {
  const bare = { sut: { pid: undefined, waitReady: () => Promise.resolve(1) }, sutUrl: "http://127.0.0.1:1" };

  it.each(CHAOS_SCENARIOS.map((s) => [s]))("%s has an injector of that scenario", (scenario) => {
    expect(createLocalInjector(scenario, bare).scenario).toBe(scenario);
  });

  it("says which need something the environment lacks", async () => {
    const reasons = await Promise.all(
      CHAOS_SCENARIOS.map(async (s) => [s, await createLocalInjector(s, bare).unavailable?.()]),
    );
    expect(Object.fromEntries(reasons)).toStrictEqual({
      pod_kill: undefined,
      network_partition: "no fault proxy in front of the SUT",
      resource_starvation: undefined,
      clock_skew: "the SUT has no fake clock (libfaketime: Debian package faketime)",
      disk_failure: "the SUT has no storage path",
    });
  });
});
