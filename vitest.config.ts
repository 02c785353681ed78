import { defineConfig } from "vitest/config";

/**
 * Two groups, one after the other. First every file that is quick or only waits on its own
 * servers, two at a time (the machine has two cores). Then the files that drive whole cycles, load,
 * real tools, CPU samplers or kill timing: their gates and contracts read latency, error rates and
 * CPU shares, so each runs alone, as it would on a user's machine.
 */
const ALONE = [
  "test/runners/local*.test.ts",
  "test/runners/images/**/*.test.ts",
  "test/runners/cluster/{run,run-central,bundles-fetch}.test.ts",
  "test/tiers/workflow/argo-run.test.ts",
  "test/workloads/orchestrator/{kill-resume,cycle,steps,telemetry}.test.ts",
  "test/workloads/orchestrator/{load,adapters,sampler,faults}/**/*.test.ts",
  "test/workloads/sut/**/*.test.ts",
  "test/workloads/central/{crash,concurrency}.test.ts",
];

const shared = {
  testTimeout: 60_000,
  hookTimeout: 60_000,
  pool: "forks" as const,
};

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          ...shared,
          name: "parallel",
          include: ["test/**/*.test.ts"],
          exclude: ["test/bench/**", "node_modules/**", ...ALONE],
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          ...shared,
          name: "alone",
          include: ALONE,
          exclude: ["test/bench/**", "node_modules/**"],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
