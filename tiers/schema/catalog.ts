import { z } from "zod";
import {
  CHAOS_SCENARIOS,
  PHASE_NAMES,
  REGION_ROLES,
  TIER_NAMES,
  TOOL_NAMES,
  type PhaseName,
} from "./names.js";

const positive = z.number().positive();
const nonNegative = z.number().nonnegative();

/** A percent band; `< 5%` is `{ max: 5 }`. */
export const PercentBand = z
  .strictObject({ min: z.number().min(0).max(100).optional(), max: z.number().min(0).max(100) })
  .refine((b) => b.min === undefined || b.min <= b.max, { message: "min must not exceed max" });
export type PercentBand = z.infer<typeof PercentBand>;

export const Range = z
  .strictObject({ min: nonNegative.optional(), max: nonNegative.optional() })
  .refine((r) => r.min === undefined || r.max === undefined || r.min <= r.max, {
    message: "min must not exceed max",
  });

export const TierSpec = z.strictObject({
  title: z.string().min(1),
  purpose: z.string().min(1),
  components: z.array(z.string().min(1)).min(1),
  /** The tier's nominal load-generation class from the seed (descriptive; phases carry the rates). */
  load_rps: Range.optional(),
  compute: z.strictObject({
    instances: z.number().int().positive(),
    /** "50+" in the seed: `instances` is a floor, not an exact count. */
    instances_at_least: z.boolean(),
    cpu_cores: z.number().int().positive(),
    memory_gb: positive,
    storage_gb: positive,
    storage_media: z.enum(["ssd", "nvme", "hdd"]),
  }),
  network: z.strictObject({
    bandwidth_gbps: positive,
    latency_ms: Range,
    latency_variable: z.boolean(),
  }),
  phases: z
    .array(z.enum(PHASE_NAMES))
    .min(1)
    .refine((p) => new Set(p).size === p.length, { message: "a phase is listed twice" })
    .refine((p) => p.every((x, i) => i === 0 || PHASE_NAMES.indexOf(x) > PHASE_NAMES.indexOf(p[i - 1]!)), {
      message: "phases must follow the cycle order idle → chaos",
    }),
  failure_injection: z.boolean(),
  regions: z.number().int().min(1).max(REGION_ROLES.length),
});
export type TierSpec = z.infer<typeof TierSpec>;

export const TiersFile = z.strictObject({
  tiers: z.strictObject(
    Object.fromEntries(TIER_NAMES.map((t) => [t, TierSpec])) as Record<
      (typeof TIER_NAMES)[number],
      typeof TierSpec
    >,
  ),
});

const ScalingRow = z.strictObject({
  cpu_cores: positive,
  memory_gb: positive,
  network_gbps: positive,
  storage_tb: positive,
  instances: z.number().int().positive(),
});
export type ScalingRow = z.infer<typeof ScalingRow>;

const LogLevel = z.enum(["TRACE", "DEBUG", "INFO", "WARN", "ERROR"]);

const FixedLoad = z.strictObject({ rps: nonNegative, connections: z.number().int().nonnegative() });
const VariableLoad = z.strictObject({
  variable: z.literal(true),
  rps_range: z.strictObject({ min: nonNegative, max: positive }),
  connections: z.literal("variable"),
});

export const PhaseSpec = z
  .strictObject({
    name: z.enum(PHASE_NAMES),
    title: z.string().min(1),
    /** Seconds; `null` where the seed says "Variable" (then `default_duration_s` applies). */
    duration_s: positive.nullable(),
    default_duration_s: positive.optional(),
    load: z.union([FixedLoad, VariableLoad]),
    cpu_target_pct: PercentBand.optional(),
    memory_target_pct: PercentBand.optional(),
    failure_injection: z.boolean().optional(),
    network_chaos: z.boolean().optional(),
    objectives: z.array(z.string().min(1)).min(1),
    scenarios: z.array(z.enum(CHAOS_SCENARIOS)).optional(),
    scaling: ScalingRow.nullable(),
    log_level: LogLevel,
    trace_sampling: z.number().min(0).max(1),
  })
  .superRefine((p, ctx) => {
    if (p.duration_s === null && p.default_duration_s === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["default_duration_s"],
        message: "a phase with variable duration needs default_duration_s",
      });
    }
  });
export type PhaseSpec = z.infer<typeof PhaseSpec>;

export const PhasesFile = z.strictObject({
  phases: z
    .array(PhaseSpec)
    .length(PHASE_NAMES.length)
    .superRefine((phases, ctx) => {
      phases.forEach((p, i) => {
        if (p.name !== PHASE_NAMES[i]) {
          ctx.addIssue({
            code: "custom",
            path: [i, "name"],
            message: "phases must be listed in cycle order",
            params: { got: p.name, expected: PHASE_NAMES[i] },
          });
        }
      });
    }),
});

export const RegionSpec = z.strictObject({
  location: z.string().min(1),
  components: z.array(z.string().min(1)).min(1),
  resources: z.strictObject({ compute_instances: z.number().int().positive(), backbone_gbps: positive }),
});
export type RegionSpec = z.infer<typeof RegionSpec>;

export const TopologyFile = z.strictObject({
  regions: z.strictObject({ primary: RegionSpec, secondary: RegionSpec, tertiary: RegionSpec }),
  known_regions: z.array(z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/)).min(1),
  simulated_latency_ms: z.strictObject({
    primary: nonNegative,
    secondary: nonNegative,
    tertiary: nonNegative,
  }),
});
export type Topology = z.infer<typeof TopologyFile>;

export const Condition = z.strictObject({
  metric: z.string().regex(/^[a-z][a-z0-9_]*$/),
  op: z.enum([">", ">=", "<", "<=", "=="]),
  value: z.number(),
  unit: z.enum(["percent", "ms", "s", "ratio", "count", "bool"]),
  for: z
    .string()
    .regex(/^\d+[smh]$/)
    .optional(),
});
export type Condition = z.infer<typeof Condition>;

export const AlertRule = z.strictObject({
  name: z.string().regex(/^[A-Z][A-Za-z0-9]*$/),
  severity: z.enum(["critical", "warning"]),
  condition: Condition,
  action: z.string().min(1),
});
export type AlertRule = z.infer<typeof AlertRule>;

export const GATE_CHECKS = [
  "sut_down",
  "sut_not_recovered",
  "contract_failed",
  "band_missed",
  "fault_recovery_missed",
] as const;
export type GateCheck = (typeof GATE_CHECKS)[number];
export const GateRuleSpec = z.strictObject({
  /** `alert:<Name>`, `rollback:<name>`, one of the built-in checks, or a condition of its own. */
  when: z.union([
    z.enum(GATE_CHECKS),
    z.string().regex(/^(alert|rollback):[A-Za-z_][A-Za-z0-9_]*$/, {
      message: "expected alert:<Name>, rollback:<name> or a built-in check",
    }),
    Condition,
  ]),
  action: z.enum(["abort", "warn"]),
});
export type GateRuleSpec = z.infer<typeof GateRuleSpec>;

export const MonitoringFile = z.strictObject({
  prometheus: z.strictObject({
    scrape_interval_s: positive,
    retention_days: positive,
    federation: z.boolean(),
  }),
  custom_metrics: z.array(z.string().regex(/^[a-z][a-z0-9_]*$/)),
  logging: z.strictObject({ platform: z.string(), retention_days: positive, index_pattern: z.string() }),
  tracing: z.strictObject({ platform: z.string() }),
  dashboards: z.record(z.string(), z.array(z.string())),
  alerts: z.array(AlertRule).min(1),
  autoscaling: z.strictObject({
    horizontal: z.strictObject({
      targets: z.strictObject({
        cpu_utilization_pct: positive,
        memory_utilization_pct: positive,
        request_rate_rps: positive,
      }),
      scale_up: z.strictObject({ increment: z.number().int().positive(), cooldown_s: positive }),
      scale_down: z.strictObject({ decrement: z.number().int().positive(), cooldown_s: positive }),
    }),
    vertical: z.strictObject({
      triggers: z.strictObject({ memory_pressure: z.boolean(), cpu_throttling: z.boolean() }),
      limits: z.strictObject({ max_cpu: positive, max_memory: z.string().regex(/^\d+(Mi|Gi|Ti)$/) }),
    }),
  }),
  rollback: z.strictObject({
    strategies: z
      .array(
        z.strictObject({
          name: z.string().regex(/^[a-z_]+$/),
          trigger: Condition,
          action: z.string(),
          validation: z.string(),
        }),
      )
      .min(1),
    automation: z.strictObject({
      detection_time_s: positive,
      rollback_time_s: positive,
      validation_time_s: positive,
    }),
  }),
  gates: z.strictObject({
    default: z.array(GateRuleSpec).min(1),
    ...(Object.fromEntries(PHASE_NAMES.map((p) => [p, z.array(GateRuleSpec).min(1).optional()])) as Record<
      PhaseName,
      z.ZodOptional<z.ZodArray<typeof GateRuleSpec>>
    >),
  }),
});
export type Monitoring = z.infer<typeof MonitoringFile>;

export const ToolSpec = z.strictObject({
  description: z.string().min(1),
  binary: z.string().nullable(),
  debian_package: z.string().nullable(),
  default_contract: z.string().nullable(),
});
export type ToolSpec = z.infer<typeof ToolSpec>;

export const ToolsFile = z.strictObject({
  tools: z.strictObject(
    Object.fromEntries(TOOL_NAMES.map((t) => [t, ToolSpec])) as Record<
      (typeof TOOL_NAMES)[number],
      typeof ToolSpec
    >,
  ),
});
