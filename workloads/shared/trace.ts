import { z } from "zod";
import { PHASE_NAMES } from "../../tiers/schema/names.js";

/** W3C trace-context ids: lowercase hex, not all zeros (an invalid id in OpenTelemetry). */
export const TRACE_ID = /^(?!0{32})[0-9a-f]{32}$/;
export const SPAN_ID = /^(?!0{16})[0-9a-f]{16}$/;

/** Bounds of one span record, so a signed but hostile bundle cannot make one row huge. */
export const SPAN_BOUNDS = {
  nameChars: 256,
  attributes: 64,
  attributeKeyChars: 128,
  attributeValueChars: 4096,
  events: 256,
} as const;

const AttributeValue = z.union([z.string().max(SPAN_BOUNDS.attributeValueChars), z.number(), z.boolean()]);
const Attributes = z
  .record(z.string().min(1).max(SPAN_BOUNDS.attributeKeyChars), AttributeValue)
  .refine((a) => Object.keys(a).length <= SPAN_BOUNDS.attributes, {
    message: `at most ${SPAN_BOUNDS.attributes} attributes`,
  });
/** Microseconds since the Unix epoch (fits a double exactly until the year 2255). */
const EpochMicros = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/**
 * One finished span of `traces.ndjson` (a bundle's traces when no OTLP endpoint is configured):
 * OpenTelemetry's span reduced to what the centre stores. Cycle, phase and test spans; fault
 * events are span events of their phase's span.
 */
export const SpanRecord = z.strictObject({
  trace_id: z.string().regex(TRACE_ID, "expected 32 lowercase hex digits, not all zeros"),
  span_id: z.string().regex(SPAN_ID, "expected 16 lowercase hex digits, not all zeros"),
  parent_span_id: z.string().regex(SPAN_ID, "expected 16 lowercase hex digits, not all zeros").nullable(),
  name: z.string().min(1).max(SPAN_BOUNDS.nameChars),
  /** `cycle`, `phase` or `test`: which of the orchestrator's spans this is. */
  kind: z.enum(["cycle", "phase", "test"]),
  cycle_id: z.string().min(1),
  phase: z.enum(PHASE_NAMES).nullable(),
  start_us: EpochMicros,
  end_us: EpochMicros,
  status: z.strictObject({
    code: z.enum(["unset", "ok", "error"]),
    message: z.string().max(SPAN_BOUNDS.attributeValueChars).optional(),
  }),
  attributes: Attributes,
  events: z
    .array(
      z.strictObject({
        name: z.string().min(1).max(SPAN_BOUNDS.nameChars),
        time_us: EpochMicros,
        attributes: Attributes,
      }),
    )
    .max(SPAN_BOUNDS.events),
});
export type SpanRecord = z.infer<typeof SpanRecord>;
