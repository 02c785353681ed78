import { z } from "zod";
import { GATE_CHECKS } from "../schema/catalog.js";
import { ContractSpec } from "../schema/contract.js";
import {
  CHAOS_SCENARIOS,
  ENVIRONMENT_ID,
  PHASE_NAMES,
  REGION_ROLES,
  TIER_NAMES,
  TOOL_NAMES,
} from "../schema/names.js";
import { LOAD_MODES } from "../schema/suite.js";

/** Version of the CyclePlan document. An orchestrator refuses any other. */
export const PLAN_SCHEMA_VERSION = 1;

const Band = z.strictObject({ min: z.number(), max: z.number() });

export const LoadProfile = z.discriminatedUnion("kind", [
  /** No load at all (the idle phase). */
  z.strictObject({ kind: z.literal("none") }),
  /** A constant rate: `rps` in absolute mode, `fraction` of the SUT's CPU share in relative mode (rate from calibration). */
  z.strictObject({
    kind: z.literal("constant"),
    mode: z.enum(LOAD_MODES),
    rps: z.number().nonnegative().optional(),
    fraction: z.number().nonnegative().optional(),
    connections: z.number().int().positive(),
  }),
  /** A stepped variable rate (the chaos phase): each step holds from `at_ms` until the next. */
  z.strictObject({
    kind: z.literal("variable"),
    mode: z.enum(LOAD_MODES),
    connections: z.number().int().positive(),
    steps: z
      .array(
        z.strictObject({
          at_ms: z.number().int().nonnegative(),
          rps: z.number().nonnegative().optional(),
          fraction: z.number().nonnegative().optional(),
        }),
      )
      .min(1),
  }),
]);
export type LoadProfile = z.infer<typeof LoadProfile>;

export const PlanTest = z.strictObject({
  /** `<phase>/<test name>`: unique within an environment's cycle. */
  id: z.string(),
  name: z.string(),
  tool: z.enum(TOOL_NAMES),
  contract: z.string(),
  parameters: z.record(z.string(), z.unknown()),
  /** Contract rules merged with the test's validation block, in the results' units. */
  rules: z.record(z.string(), z.strictObject({ min: z.number().optional(), max: z.number().optional() })),
  timeout_ms: z.number().int().positive(),
  /** Run time the test asks for (from the contract's duration parameter), if known. */
  duration_ms: z.number().nonnegative().optional(),
});
export type PlanTest = z.infer<typeof PlanTest>;

export const GateRule = z.strictObject({
  id: z.string(),
  action: z.enum(["abort", "warn"]),
  /** Where the rule came from: `alert:HighLatency`, `rollback:version_rollback`, `suite`, or a check name. */
  source: z.string(),
  check: z.union([z.literal("metric"), z.enum(GATE_CHECKS)]),
  metric: z.string().optional(),
  op: z.enum([">", ">=", "<", "<=", "=="]).optional(),
  /** Threshold in canonical units: ratio for rates, ms for latency, percent for usage. */
  threshold: z.number().optional(),
  unit: z.string().optional(),
  /**
   * For sut_not_recovered: how long the SUT may take to come back after faults are undone. For
   * fault_recovery_missed: the longest recovery allowed (first failed probe → healthy again).
   */
  within_ms: z.number().int().positive().optional(),
  /** For fault_recovery_missed: the longest detection allowed (injection → first failed probe). */
  detect_within_ms: z.number().int().positive().optional(),
});
export type GateRule = z.infer<typeof GateRule>;

export const PlanFault = z.strictObject({
  scenario: z.enum(CHAOS_SCENARIOS),
  at_ms: z.number().int().nonnegative(),
  duration_ms: z.number().int().positive(),
});
export type PlanFault = z.infer<typeof PlanFault>;

export const PlanPhase = z.strictObject({
  name: z.enum(PHASE_NAMES),
  index: z
    .number()
    .int()
    .min(0)
    .max(PHASE_NAMES.length - 1),
  title: z.string(),
  duration_ms: z.number().int().positive(),
  /** The seed's duration in seconds; null where the seed says "Variable". */
  seed_duration_s: z.number().positive().nullable(),
  load: LoadProfile,
  cpu_band: Band.nullable(),
  memory_band: Band.nullable(),
  objectives: z.array(z.string()),
  log_level: z.string(),
  trace_sampling: z.number().min(0).max(1),
  faults: z.array(PlanFault),
  tests: z.array(PlanTest),
  gate: z.array(GateRule),
});
export type PlanPhase = z.infer<typeof PlanPhase>;

export const PlanRegion = z.strictObject({
  location: z.string(),
  roles: z.array(z.enum(REGION_ROLES)).min(1),
  components: z.array(z.string()),
  capacity_instances: z.number().int().positive(),
  backbone_gbps: z.number().positive(),
  simulated_latency_ms: z.number().nonnegative(),
});
export type PlanRegion = z.infer<typeof PlanRegion>;

export const PlanEnvironment = z.strictObject({
  id: z.string().regex(ENVIRONMENT_ID),
  /** Namespace / directory form of the id. */
  slug: z.string(),
  name: z.string(),
  region: z.string(),
  role: z.enum(REGION_ROLES),
  max_parallel: z.number().int().positive(),
  resources: z.strictObject({
    cpu_millis: z.number().int().positive(),
    memory_bytes: z.number().int().positive(),
  }),
  tools: z.record(z.string(), z.string()),
  storage: z.strictObject({ path: z.string().optional(), format: z.literal("sqlite") }),
  phases: z.array(PlanPhase).min(1),
});
export type PlanEnvironment = z.infer<typeof PlanEnvironment>;

export const CyclePlan = z.strictObject({
  kind: z.literal("test-tiers/cycle-plan"),
  schema_version: z.literal(PLAN_SCHEMA_VERSION),
  /** sha256 of the canonical JSON of the plan with `hash` set to "". */
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  tier: z.strictObject({
    name: z.enum(TIER_NAMES),
    title: z.string(),
    failure_injection: z.boolean(),
    sizing: z.strictObject({
      instances: z.number().int().positive(),
      instances_at_least: z.boolean(),
      cpu_cores: z.number().positive(),
      memory_gb: z.number().positive(),
      storage_gb: z.number().positive(),
      storage_media: z.string(),
      bandwidth_gbps: z.number().positive(),
      latency_ms: z.strictObject({ min: z.number().optional(), max: z.number().optional() }),
      latency_variable: z.boolean(),
    }),
  }),
  regions: z.array(PlanRegion).min(1),
  suite: z.strictObject({ id: z.string(), name: z.string(), source: z.string() }),
  options: z.strictObject({
    time_scale: z.number().positive(),
    load_mode: z.enum(LOAD_MODES),
    load_scale: z.number().positive(),
    seed: z.number().int().nonnegative(),
    max_connections: z.number().int().positive(),
  }),
  monitoring: z.strictObject({
    scrape_interval_s: z.number().positive(),
    retention_days: z.number().positive(),
  }),
  /** The contracts the plan's tests use, so an isolated environment needs nothing else. */
  contracts: z.record(z.string(), ContractSpec),
  environments: z.array(PlanEnvironment).min(1),
  totals: z.strictObject({
    phase_time_ms: z.number().int().nonnegative(),
    tests_per_environment: z.number().int().nonnegative(),
  }),
  warnings: z.array(z.string()),
});
export type CyclePlan = z.infer<typeof CyclePlan>;
