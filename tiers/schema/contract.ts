import { z } from "zod";
import { IDENTIFIER, TOOL_NAMES } from "./names.js";

export const VALUE_TYPES = ["integer", "float", "number", "string", "boolean"] as const;

/** A result's unit. The family decides how rule values such as "900M" or "10ms" are read. */
export const RESULT_UNITS = [
  "bits/sec",
  "bytes/sec",
  "bytes",
  "ms",
  "s",
  "us",
  "percent",
  "ratio",
  "count",
  "ops/sec",
  "req/sec",
] as const;
export type ResultUnit = (typeof RESULT_UNITS)[number];

const scalar = z.union([z.number(), z.string(), z.boolean()]);

export const ParameterSpec = z
  .strictObject({
    type: z.enum(VALUE_TYPES),
    range: z.tuple([z.number(), z.number()]).optional(),
    pattern: z.string().optional(),
    enum: z
      .array(z.union([z.string(), z.number()]))
      .min(1)
      .optional(),
    default: scalar.optional(),
    required: z.boolean().optional(),
    unit: z.string().optional(),
    description: z.string().optional(),
  })
  .superRefine((p, ctx) => {
    if (p.range && p.range[0] > p.range[1]) {
      ctx.addIssue({ code: "custom", path: ["range"], message: "range minimum exceeds its maximum" });
    }
    if (p.range && (p.type === "string" || p.type === "boolean")) {
      ctx.addIssue({ code: "custom", path: ["range"], message: `a ${p.type} parameter cannot have a range` });
    }
    if (p.pattern !== undefined) {
      if (p.type !== "string") {
        ctx.addIssue({
          code: "custom",
          path: ["pattern"],
          message: `a ${p.type} parameter cannot have a pattern`,
        });
      }
      try {
        new RegExp(p.pattern);
      } catch (error) {
        ctx.addIssue({
          code: "custom",
          path: ["pattern"],
          message: `not a valid regular expression: ${(error as Error).message}`,
        });
      }
    }
  });
export type ParameterSpec = z.infer<typeof ParameterSpec>;

export const ResultSpec = z.strictObject({
  type: z.enum(VALUE_TYPES),
  unit: z.enum(RESULT_UNITS).optional(),
  required: z.boolean().optional(),
  /** Where the `command` adapter finds the value in the tool's JSON: a dotted path like `end.sum.bps`. */
  from: z
    .string()
    .regex(/^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+|\[\d+\])*$/)
    .optional(),
  description: z.string().optional(),
});
export type ResultSpec = z.infer<typeof ResultSpec>;

/** A business rule: `min` / `max` in the result's unit; strings may carry a suffix ("900M", "10ms"). */
export const RuleSpec = z
  .strictObject({
    min: z.union([z.number(), z.string()]).optional(),
    max: z.union([z.number(), z.string()]).optional(),
  })
  .refine((r) => r.min !== undefined || r.max !== undefined, { message: "a rule needs min or max" });
export type RuleSpec = z.infer<typeof RuleSpec>;

export const ContractSpec = z.strictObject({
  description: z.string().optional(),
  tool: z.enum(TOOL_NAMES).optional(),
  /** The parameter holding the test's run time in seconds, so a plan can check it fits its phase. */
  duration_parameter: z.string().optional(),
  parameters: z.record(z.string().regex(IDENTIFIER), ParameterSpec),
  results: z.record(z.string().regex(IDENTIFIER), ResultSpec),
  rules: z.record(z.string().regex(IDENTIFIER), RuleSpec).optional(),
});
export type ContractSpec = z.infer<typeof ContractSpec>;

export const ContractsFile = z.strictObject({
  contracts: z.record(z.string().regex(/^[A-Z][A-Za-z0-9]*$/), ContractSpec),
});
