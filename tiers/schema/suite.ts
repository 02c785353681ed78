import { z } from "zod";
import { GateRuleSpec } from "./catalog.js";
import { ContractSpec } from "./contract.js";
import { ENVIRONMENT_ID, IDENTIFIER, PHASE_NAMES, TIER_NAMES, TOOL_NAMES, type PhaseName } from "./names.js";

const phaseList = z
  .array(z.enum(PHASE_NAMES))
  .min(1)
  .refine((p) => new Set(p).size === p.length, { message: "a phase is listed twice" });

/** One test of a suite, in seed 000's shape plus `phases` (when it runs) and `timeout_s`. */
export const TestSpec = z.strictObject({
  name: z.string().regex(IDENTIFIER, { message: "expected a name of letters, digits, _ . -" }),
  tool: z.enum(TOOL_NAMES),
  /** Defaults to the tool's contract from tiers/catalog/tools.yaml. */
  contract: z.string().optional(),
  description: z.string().optional(),
  /** Phases the test runs in (default: every phase of the plan). */
  phases: phaseList.optional(),
  parameters: z.record(z.string(), z.unknown()).optional(),
  /** `min_<result>` / `max_<result>` thresholds that tighten or replace the contract's rules. */
  validation: z
    .record(z.string().regex(/^(min|max)_[A-Za-z0-9_.-]+$/), z.union([z.number(), z.string()]))
    .optional(),
  timeout_s: z.number().positive().max(86_400).optional(),
});
export type TestSpec = z.infer<typeof TestSpec>;

const gateOverrides = z.strictObject({
  default: z.array(GateRuleSpec).min(1).optional(),
  ...(Object.fromEntries(PHASE_NAMES.map((p) => [p, z.array(GateRuleSpec).min(1).optional()])) as Record<
    PhaseName,
    z.ZodOptional<z.ZodArray<typeof GateRuleSpec>>
  >),
});

export const SuiteSpec = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  /** Restrict the cycle to these phases (each must be one the tier runs). */
  phases: phaseList.optional(),
  phase_overrides: z
    .strictObject(
      Object.fromEntries(
        PHASE_NAMES.map((p) => [
          p,
          z.strictObject({ duration_s: z.number().positive().max(604_800) }).optional(),
        ]),
      ) as Record<PhaseName, z.ZodOptional<z.ZodObject<{ duration_s: z.ZodNumber }>>>,
    )
    .optional(),
  gates: gateOverrides.optional(),
  tests: z.array(TestSpec).min(1),
});
export type SuiteSpec = z.infer<typeof SuiteSpec>;

/** CPU as cores (2, 0.5) or millicores ("500m"); memory as "16Gi", "512Mi", "16GB". */
export const EnvironmentSpec = z.strictObject({
  name: z.string().min(1).optional(),
  type: z.literal("isolated").optional(),
  /** A region role (primary, secondary, tertiary) or one of the plan's region codes. */
  region: z.string().optional(),
  max_parallel: z.number().int().min(1).max(64).optional(),
  resources: z
    .strictObject({
      cpu: z.union([
        z.number().positive(),
        z.string().regex(/^\d+m$/, { message: "expected cores or millicores" }),
      ]),
      memory: z.string().regex(/^\d+(\.\d+)?\s*(Ki|Mi|Gi|Ti|KB|MB|GB|TB|K|M|G|T)$/, {
        message: "expected a size such as 16Gi or 512Mi",
      }),
    })
    .optional(),
  tools: z.partialRecord(z.enum(TOOL_NAMES), z.string().min(1)).optional(),
  storage: z
    .strictObject({ path: z.string().min(1).optional(), format: z.literal("sqlite").optional() })
    .optional(),
});
export type EnvironmentSpec = z.infer<typeof EnvironmentSpec>;

export const LOAD_MODES = ["absolute", "relative"] as const;
export type LoadMode = (typeof LOAD_MODES)[number];

/** Plan options as a file may give them (`options:`); the same keys come from env and command line. */
export const PlanOptionsSpec = z.strictObject({
  tier: z.enum(TIER_NAMES).optional(),
  suite: z.string().regex(IDENTIFIER).optional(),
  time_scale: z.number().positive().max(100).optional(),
  load_mode: z.enum(LOAD_MODES).optional(),
  load_scale: z.number().positive().max(1000).optional(),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .optional(),
  max_connections: z.number().int().min(1).max(100_000).optional(),
  environments: z.number().int().min(1).max(64).optional(),
  regions: z.array(z.string().min(1)).min(1).optional(),
});
export type PlanOptionsSpec = z.infer<typeof PlanOptionsSpec>;

/** A user file: any of suites, contracts, environments and options (seed 000's YAML shapes). */
export const SuiteFile = z.strictObject({
  test_suites: z.record(z.string().regex(IDENTIFIER), SuiteSpec).optional(),
  contracts: z.record(z.string().regex(/^[A-Z][A-Za-z0-9]*$/), ContractSpec).optional(),
  environments: z
    .record(
      z.string().regex(ENVIRONMENT_ID, { message: "expected lower case letters, digits, - and _" }),
      EnvironmentSpec,
    )
    .optional(),
  options: PlanOptionsSpec.optional(),
});
export type SuiteFile = z.infer<typeof SuiteFile>;
