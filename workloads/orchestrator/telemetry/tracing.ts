import { appendFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { SpanStatusCode, type AttributeValue, type Attributes } from "@opentelemetry/api";
import { ExportResultCode, hrTimeToMicroseconds, type ExportResult } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  SimpleSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
} from "@opentelemetry/sdk-trace-base";
import { PHASE_NAMES } from "../../../tiers/schema/names.js";
import { SPAN_BOUNDS, SpanRecord } from "../../shared/trace.js";
import { PhaseRateSampler } from "./sampler.js";

/** Span attributes naming what a span is; the offline exporter files each span under its cycle. */
export const ATTR = {
  kind: "tiers.span_kind",
  cycle: "tiers.cycle_id",
  phase: "tiers.phase",
} as const;

function scalar(v: AttributeValue | undefined): string | number | boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === "string") return v.slice(0, SPAN_BOUNDS.attributeValueChars);
  if (typeof v === "number") return Number.isFinite(v) ? v : undefined;
  if (typeof v === "boolean") return v;
  return JSON.stringify(v).slice(0, SPAN_BOUNDS.attributeValueChars);
}

function attributes(a: Attributes | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(a ?? {}).slice(0, SPAN_BOUNDS.attributes)) {
    const s = scalar(v);
    if (s !== undefined) out[k.slice(0, SPAN_BOUNDS.attributeKeyChars)] = s;
  }
  return out;
}

const us = (t: ReadableSpan["startTime"]): number => Math.round(hrTimeToMicroseconds(t));

/** A finished OpenTelemetry span as a `traces.ndjson` record (checked against its schema). */
export function toSpanRecord(span: ReadableSpan): SpanRecord {
  const a = span.attributes;
  const kind = a[ATTR.kind];
  const phase = a[ATTR.phase];
  const ctx = span.spanContext();
  return SpanRecord.parse({
    trace_id: ctx.traceId,
    span_id: ctx.spanId,
    parent_span_id: span.parentSpanContext?.spanId ?? null,
    name: span.name.slice(0, SPAN_BOUNDS.nameChars),
    kind: kind === "cycle" || kind === "phase" ? kind : "test",
    cycle_id: String(a[ATTR.cycle] ?? ""),
    phase: (PHASE_NAMES as readonly unknown[]).includes(phase) ? (phase as SpanRecord["phase"]) : null,
    start_us: us(span.startTime),
    end_us: Math.max(us(span.startTime), us(span.endTime)),
    status: {
      code:
        span.status.code === SpanStatusCode.ERROR
          ? "error"
          : span.status.code === SpanStatusCode.OK
            ? "ok"
            : "unset",
      ...(span.status.message
        ? { message: span.status.message.slice(0, SPAN_BOUNDS.attributeValueChars) }
        : {}),
    },
    attributes: attributes(a),
    events: span.events.slice(0, SPAN_BOUNDS.events).map((e) => ({
      name: e.name.slice(0, SPAN_BOUNDS.nameChars),
      time_us: us(e.time),
      attributes: attributes(e.attributes),
    })),
  } satisfies SpanRecord);
}

/** Where a cycle's offline spans go: `<dir>/<cycle-id>.ndjson`, read by the bundle export. */
export function traceFile(dir: string, cycleId: string): string {
  return join(dir, `${cycleId}.ndjson`);
}

/**
 * The offline exporter: each finished span appended as one JSON line to its cycle's file in the
 * environment's volume, so an isolated environment's traces reach the centre in the bundle.
 * Synchronous appends: a span is on disk when `end()` returns, and a killed orchestrator keeps what
 * it had (a resumed cycle appends to the same file).
 */
export class NdjsonSpanExporter implements SpanExporter {
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    try {
      const byCycle = new Map<string, string[]>();
      for (const s of spans) {
        const r = toSpanRecord(s);
        if (!r.cycle_id) continue;
        const lines = byCycle.get(r.cycle_id) ?? [];
        lines.push(JSON.stringify(r));
        byCycle.set(r.cycle_id, lines);
      }
      for (const [cycle, lines] of byCycle)
        appendFileSync(traceFile(this.dir, cycle), `${lines.join("\n")}\n`, { mode: 0o600 });
      done({ code: ExportResultCode.SUCCESS });
    } catch (error) {
      done({ code: ExportResultCode.FAILED, error: error as Error });
    }
  }

  async shutdown(): Promise<void> {}
  async forceFlush(): Promise<void> {}
}

export interface TracingOptions {
  readonly environment: string;
  /** OTLP/HTTP traces endpoint (`http://collector:4318/v1/traces`); without one spans go to `dir`. */
  readonly otlpEndpoint?: string | undefined;
  /** Where offline spans go (the environment's volume). */
  readonly dir: string;
  readonly serviceVersion?: string;
}

/**
 * The orchestrator's tracer provider: the per-phase sampler, and either the OTLP/HTTP (protobuf)
 * exporter behind a batch processor, or the offline ndjson exporter. One per Environment.
 */
export function createTracerProvider(options: TracingOptions): {
  provider: BasicTracerProvider;
  exporting: "otlp" | "bundle";
} {
  const processor = options.otlpEndpoint
    ? new BatchSpanProcessor(new OTLPTraceExporter({ url: options.otlpEndpoint, timeoutMillis: 10_000 }), {
        scheduledDelayMillis: 1000,
      })
    : new SimpleSpanProcessor(new NdjsonSpanExporter(options.dir));
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      "service.name": "test-tiers-orchestrator",
      "service.version": options.serviceVersion ?? "0.1.0",
      "service.instance.id": options.environment,
      "tiers.environment": options.environment,
    }),
    sampler: new PhaseRateSampler(),
    spanProcessors: [processor],
  });
  return { provider, exporting: options.otlpEndpoint ? "otlp" : "bundle" };
}
