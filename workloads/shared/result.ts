import { z } from "zod";
import { PHASE_NAMES, TOOL_NAMES } from "../../tiers/schema/names.js";

/**
 * What one test execution produced, after its contract was applied (seed 000's results schema:
 * test id, timestamp, metrics, validation — plus everything needed to trust and trace it).
 *
 * status:
 * - `passed`  the tool ran, its output matched the contract's results, every rule held;
 * - `failed`  the tool failed (non-zero exit, timeout, crash, an `error` in its JSON) or a rule
 *             failed (`validation.status` failed); `reason` says which, `exit_code` is kept;
 * - `invalid` parameters broke the contract (the tool was not run), or the output did not match it
 *             (malformed, truncated, empty, missing a required metric, wrong type);
 * - `skipped` the tool is not installed here ("tool not installed: …"), or the step cannot run on
 *             this target; `reason` says which.
 */
export const RESULT_STATUSES = ["passed", "failed", "invalid", "skipped"] as const;
export type ResultStatus = (typeof RESULT_STATUSES)[number];

export const MetricValue = z.strictObject({
  value: z.union([z.number(), z.string(), z.boolean()]),
  unit: z.string().optional(),
});
export type MetricValue = z.infer<typeof MetricValue>;

export const Validation = z.strictObject({
  status: z.enum(["passed", "failed"]),
  checks: z.record(z.string(), z.enum(["passed", "failed"])),
});

export const Result = z.strictObject({
  /** Unique per execution (uuid); the key that makes imports idempotent. */
  result_id: z.uuid(),
  /** `<phase>/<test name>` from the plan, or `<phase>/load` for the phase's own load. */
  test_id: z.string().min(1),
  test_name: z.string().min(1),
  cycle_id: z.string().min(1),
  environment: z.string().min(1),
  phase: z.enum(PHASE_NAMES),
  tool: z.strictObject({ name: z.enum(TOOL_NAMES), version: z.string().nullable() }),
  contract: z.string(),
  parameters: z.record(z.string(), z.unknown()),
  metrics: z.record(z.string(), MetricValue),
  validation: Validation,
  status: z.enum(RESULT_STATUSES),
  /** One line saying why, for every status but `passed`. */
  reason: z.string().optional(),
  errors: z.array(z.string()),
  /** Paths inside the bundle (`raw/<result_id>.stdout` …) of the tool's untouched output. */
  raw: z.strictObject({
    stdout: z.string().optional(),
    stderr: z.string().optional(),
    files: z.array(z.string()).optional(),
  }),
  timings: z.strictObject({
    started_at: z.string().datetime(),
    ended_at: z.string().datetime(),
    duration_ms: z.number().nonnegative(),
  }),
  exit_code: z.number().int().nullable(),
  attempt: z.number().int().positive(),
});
export type Result = z.infer<typeof Result>;
