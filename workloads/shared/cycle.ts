import { z } from "zod";
import { PHASE_NAMES, REGION_ROLES } from "../../tiers/schema/names.js";

/** One point of a time series (SUT resource use, per-second load figures). */
export const Sample = z.strictObject({
  /** Epoch milliseconds. */
  ts_ms: z.number().int().nonnegative(),
  phase: z.enum(PHASE_NAMES).nullable(),
  /** `sut.cpu_pct`, `sut.rss_bytes`, `load.rps`, `load.p99_ms`, `load.errors` … */
  series: z.string().min(1),
  value: z.number(),
});
export type Sample = z.infer<typeof Sample>;

/** Something that happened: a fault applied or undone, a SUT restart, a phase start, an abort. */
export const CycleEvent = z.strictObject({
  ts_ms: z.number().int().nonnegative(),
  phase: z.enum(PHASE_NAMES).nullable(),
  /** `fault.applied`, `fault.undone`, `sut.restarted`, `phase.started`, `phase.ended`, `cycle.aborted` … */
  kind: z.string().min(1),
  /** For faults: pod_kill, network_partition, resource_starvation, clock_skew, disk_failure. */
  scenario: z.string().optional(),
  detail: z.record(z.string(), z.unknown()),
});
export type CycleEvent = z.infer<typeof CycleEvent>;

export const GateOutcome = z.strictObject({
  id: z.string(),
  check: z.string(),
  source: z.string(),
  action: z.enum(["abort", "warn"]),
  metric: z.string().optional(),
  op: z.string().optional(),
  threshold: z.number().optional(),
  observed: z.number().nullable().optional(),
  /** `pass`, `fail`, or `not_evaluated` (with the reason in `note`). */
  outcome: z.enum(["pass", "fail", "not_evaluated"]),
  note: z.string().optional(),
});
export type GateOutcome = z.infer<typeof GateOutcome>;

const Band = z.strictObject({
  min: z.number(),
  max: z.number(),
  mean: z.number().nullable(),
  p95: z.number().nullable(),
  reached: z.boolean().nullable(),
});

export const PhaseSummary = z.strictObject({
  name: z.enum(PHASE_NAMES),
  index: z.number().int().min(0),
  status: z.enum(["completed", "aborted", "skipped", "not_run"]),
  started_at: z.string().datetime().nullable(),
  ended_at: z.string().datetime().nullable(),
  planned_duration_ms: z.number().int().nonnegative(),
  duration_ms: z.number().nonnegative().nullable(),
  load: z.strictObject({
    target_rps: z.number().nullable(),
    achieved_rps: z.number().nullable(),
    requests: z.number().int().nonnegative(),
    errors: z.number().int().nonnegative(),
    error_rate: z.number().nullable(),
    p50_ms: z.number().nullable(),
    p95_ms: z.number().nullable(),
    p99_ms: z.number().nullable(),
  }),
  cpu: Band.nullable(),
  memory: Band.nullable(),
  /** `not_run`: the phase never ran (an earlier gate aborted the cycle), so no gate was evaluated. */
  gate: z.strictObject({
    verdict: z.enum(["passed", "warned", "aborted", "not_run"]),
    rules: z.array(GateOutcome),
  }),
});
export type PhaseSummary = z.infer<typeof PhaseSummary>;

/** The summary of a planned phase that never ran: no figures, no gate. */
export function notRunSummary(phase: {
  readonly name: PhaseSummary["name"];
  readonly index: number;
  readonly duration_ms: number;
}): PhaseSummary {
  return {
    name: phase.name,
    index: phase.index,
    status: "not_run",
    started_at: null,
    ended_at: null,
    planned_duration_ms: phase.duration_ms,
    duration_ms: null,
    load: {
      target_rps: null,
      achieved_rps: null,
      requests: 0,
      errors: 0,
      error_rate: null,
      p50_ms: null,
      p95_ms: null,
      p99_ms: null,
    },
    cpu: null,
    memory: null,
    gate: { verdict: "not_run", rules: [] },
  };
}

/** The cycle as a whole: what ran, the calibration, each phase's figures and gate, the verdict. */
export const CycleSummary = z.strictObject({
  cycle_id: z.string().min(1),
  plan_hash: z.string().regex(/^[0-9a-f]{64}$/),
  tier: z.string(),
  suite_id: z.string(),
  environment: z.strictObject({
    id: z.string(),
    name: z.string(),
    region: z.string(),
    role: z.enum(REGION_ROLES),
  }),
  started_at: z.string().datetime(),
  ended_at: z.string().datetime().nullable(),
  status: z.enum(["completed", "aborted", "failed", "interrupted"]),
  verdict: z.enum(["passed", "failed"]),
  reason: z.string().optional(),
  calibration: z
    .strictObject({
      saturation_rps: z.number().positive(),
      method: z.string(),
      steps: z.array(
        z.strictObject({
          rps: z.number(),
          achieved_rps: z.number(),
          p99_ms: z.number(),
          error_rate: z.number(),
          /** Responses in the step. */
          requests: z.number().nonnegative().optional(),
          /** The SUT's CPU seconds during the step; null where its CPU was not read. */
          cpu_s: z.number().nonnegative().nullable().optional(),
        }),
      ),
      /** Cores the SUT is entitled to (its CPU bands' 100 %); null without a CPU probe. */
      cores: z.number().positive().nullable().optional(),
      /**
       * The SUT's CPU seconds a request: the cost step's where it measured one, else the ramp's
       * steps that held their rate; null where not measured.
       */
      cpu_s_per_request: z.number().positive().nullable().optional(),
      /**
       * The cost step after the ramp: a rate below the knee held with the phases' connections, its
       * CPU and responses counted from the end of its first second (steady state).
       */
      cost_step: z
        .strictObject({
          rps: z.number().positive(),
          connections: z.number().int().positive(),
          duration_s: z.number().positive(),
          requests: z.number().int().positive(),
          cpu_s: z.number().positive(),
          cpu_s_per_request: z.number().positive(),
        })
        .optional(),
      /**
       * How a relative fraction becomes a rate: `cpu` — that fraction of the cores over the CPU a
       * request costs, at most the saturation; `saturation` — that fraction of the saturation.
       * Absent in calibrations recorded before the CPU was measured (they meant `saturation`).
       */
      rate_basis: z.enum(["cpu", "saturation"]).optional(),
      /** The rate each constant-load phase aims at, and whether the saturation capped it. */
      targets: z
        .array(
          z.strictObject({
            phase: z.string(),
            fraction: z.number(),
            rps: z.number(),
            capped: z.boolean(),
          }),
        )
        .optional(),
    })
    .nullable(),
  phases: z.array(PhaseSummary),
});
export type CycleSummary = z.infer<typeof CycleSummary>;
