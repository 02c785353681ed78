import { context, SpanStatusCode, trace, type Span, type Tracer } from "@opentelemetry/api";
import type { BasicTracerProvider } from "@opentelemetry/sdk-trace-base";
import type { DestinationStream, Level, Logger } from "pino";
import type { CyclePlan, PlanEnvironment, PlanPhase, PlanTest } from "../../../tiers/plan/schema.js";
import type { CycleEvent, PhaseSummary } from "../../shared/cycle.js";
import type { Result } from "../../shared/result.js";
import { OrchestratorMetrics, type MetricsState } from "../api/metrics.js";
import { BASE_LOG_LEVEL, createLogger, pinoLevel } from "./logger.js";
import { SAMPLING_KEY, SAMPLING_RATE } from "./sampler.js";
import { ATTR, createTracerProvider } from "./tracing.js";

export interface TelemetryOptions {
  readonly environment: string;
  /** Where offline spans go (`<data_dir>/traces`). */
  readonly traceDir: string;
  readonly otlpEndpoint?: string | undefined;
  /** Log destination (default: stderr). */
  readonly logDestination?: DestinationStream;
  /** What `/metrics` reads; without it no metrics registry is made. */
  readonly metricsState?: MetricsState;
}

/**
 * One environment's telemetry: the pino logger, the tracer provider (OTLP or the bundle) and the
 * prom-client registry. `cycle()` gives the hooks the cycle controller calls.
 */
export class Telemetry {
  readonly logger: Logger;
  readonly metrics: OrchestratorMetrics | undefined;
  readonly exporting: "otlp" | "bundle";
  private readonly provider: BasicTracerProvider;
  private readonly tracer: Tracer;

  constructor(readonly options: TelemetryOptions) {
    this.logger = createLogger({
      environment: options.environment,
      ...(options.logDestination ? { destination: options.logDestination } : {}),
    });
    const { provider, exporting } = createTracerProvider({
      environment: options.environment,
      otlpEndpoint: options.otlpEndpoint,
      dir: options.traceDir,
    });
    this.provider = provider;
    this.exporting = exporting;
    this.tracer = provider.getTracer("test-tiers/orchestrator");
    this.metrics = options.metricsState
      ? new OrchestratorMetrics(options.environment, options.metricsState)
      : undefined;
  }

  cycle(cycleId: string, plan: CyclePlan, environment: PlanEnvironment, resumed: boolean): CycleTelemetry {
    return new CycleTelemetry(this, this.tracer, cycleId, plan, environment, resumed);
  }

  /** Every finished span exported (to OTLP, or on disk for the bundle). */
  async flush(): Promise<void> {
    await this.provider
      .forceFlush()
      .catch((error: Error) => this.logger.warn({ error: error.message }, "traces.flush_failed"));
  }

  async shutdown(): Promise<void> {
    await this.flush();
    await this.provider.shutdown().catch(() => undefined);
    this.logger.flush();
  }
}

/** Scalar detail fields of an event, for a log record or span event attributes. */
function scalars(detail: Record<string, unknown>): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(detail)) {
    if (typeof v === "string" || typeof v === "boolean") out[k] = v;
    else if (typeof v === "number" && Number.isFinite(v)) out[k] = v;
    else if (v !== null && v !== undefined) out[k] = JSON.stringify(v);
  }
  return out;
}

/**
 * The controller's hooks for one cycle: a span for the cycle, one per phase (the phase's fault
 * events are its span events) and one per test, sampled at the phase's `trace_sampling`; log
 * records at the phase's `log_level` (the logger's level is the phase's while it runs); fault and
 * test metrics.
 */
export class CycleTelemetry {
  private readonly cycleSpan: Span;
  private phaseSpan: Span | undefined;
  private phase: PlanPhase | undefined;
  readonly log: Logger;

  constructor(
    private readonly parent: Telemetry,
    private readonly tracer: Tracer,
    readonly cycleId: string,
    private readonly plan: CyclePlan,
    private readonly environment: PlanEnvironment,
    resumed: boolean,
  ) {
    this.log = parent.logger.child({ cycle: cycleId });
    this.cycleSpan = tracer.startSpan("cycle", {
      attributes: {
        [ATTR.kind]: "cycle",
        [ATTR.cycle]: cycleId,
        "tiers.environment": environment.id,
        "tiers.tier": plan.tier.name,
        "tiers.plan_hash": plan.hash,
        "tiers.resumed": resumed,
      },
    });
    this.log.info({ tier: plan.tier.name, resumed, traces: parent.exporting }, "cycle.started");
  }

  /** A child logger keeps the level it had when made: both are set. */
  private setLevel(level: Level): void {
    this.parent.logger.level = level;
    this.log.level = level;
  }

  phaseStarted(phase: PlanPhase, attempt: number): void {
    this.phase = phase;
    // The catalog's level for this phase, for everything logged while it runs.
    this.setLevel(pinoLevel(phase.log_level));
    this.phaseSpan = this.tracer.startSpan(
      `phase ${phase.name}`,
      {
        attributes: {
          [ATTR.kind]: "phase",
          [ATTR.cycle]: this.cycleId,
          [ATTR.phase]: phase.name,
          "tiers.attempt": attempt,
          "tiers.trace_sampling": phase.trace_sampling,
          "tiers.log_level": phase.log_level,
        },
      },
      trace.setSpan(context.active(), this.cycleSpan),
    );
    this.log.info(
      { phase: phase.name, attempt, duration_ms: phase.duration_ms, log_level: phase.log_level },
      "phase.started",
    );
  }

  /** A cycle event (fault applied/undone/skipped, SUT restarted, recovery …). */
  event(e: CycleEvent): void {
    const fields = { phase: e.phase, ...(e.scenario ? { scenario: e.scenario } : {}), ...scalars(e.detail) };
    // phase.started / phase.ended are logged by phaseStarted / phaseEnded.
    if (e.kind.startsWith("phase.")) return;
    const isFault = e.kind.startsWith("fault.");
    if (isFault || e.kind.startsWith("sut.")) {
      this.phaseSpan?.addEvent(
        e.kind,
        { ...(e.scenario ? { "tiers.scenario": e.scenario } : {}), ...scalars(e.detail) },
        e.ts_ms,
      );
    }
    if (isFault) this.parent.metrics?.faultEvent(e.scenario ?? "unknown", e.kind);
    if (e.kind.endsWith("_failed")) this.log.error(fields, e.kind);
    else if (isFault || e.kind === "sut.restarted") this.log.warn(fields, e.kind);
    else this.log.debug(fields, e.kind);
  }

  /** Runs one test (or load segment) under its span, sampled at the phase's rate. */
  async test(test: Pick<PlanTest, "id" | "tool">, run: () => Promise<Result>): Promise<Result> {
    const phase = this.phase;
    const span = this.tracer.startSpan(
      `test ${test.id}`,
      {
        attributes: {
          [ATTR.kind]: "test",
          [ATTR.cycle]: this.cycleId,
          ...(phase ? { [ATTR.phase]: phase.name } : {}),
          "tiers.test_id": test.id,
          "tiers.tool": test.tool,
          [SAMPLING_RATE]: phase?.trace_sampling ?? 1,
          [SAMPLING_KEY]: `${this.plan.options.seed}/${this.environment.id}/${test.id}`,
        },
      },
      this.phaseSpan ? trace.setSpan(context.active(), this.phaseSpan) : undefined,
    );
    this.log.debug({ phase: phase?.name, test: test.id, tool: test.tool }, "test.started");
    const started = performance.now();
    try {
      const result = await run();
      span.setAttributes({ "tiers.status": result.status, "tiers.result_id": result.result_id });
      if (result.status === "failed" || result.status === "invalid")
        span.setStatus({ code: SpanStatusCode.ERROR, message: result.reason ?? result.status });
      const fields = {
        phase: result.phase,
        test: test.id,
        status: result.status,
        ms: result.timings.duration_ms,
      };
      if (result.status === "passed" || result.status === "skipped") this.log.info(fields, "test.ended");
      else this.log.warn({ ...fields, reason: result.reason }, "test.ended");
      this.parent.metrics?.testEnded(result.phase, result.status, (performance.now() - started) / 1000);
      return result;
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      this.log.error({ phase: phase?.name, test: test.id, error: (error as Error).message }, "test.failed");
      throw error;
    } finally {
      span.end();
    }
  }

  /** One second of the phase load (trace level: seed 001 traces the heavy phases). */
  loadSecond(s: { rps: number; p99_ms: number | null; errors: number }): void {
    if (this.log.isLevelEnabled("trace")) this.log.trace({ phase: this.phase?.name, ...s }, "load.second");
  }

  phaseEnded(summary: PhaseSummary): void {
    const span = this.phaseSpan;
    span?.setAttributes({
      "tiers.status": summary.status,
      "tiers.gate": summary.gate.verdict,
    });
    if (summary.gate.verdict === "aborted" || summary.status === "aborted")
      span?.setStatus({ code: SpanStatusCode.ERROR, message: `gate ${summary.gate.verdict}` });
    span?.end();
    const fields = { phase: summary.name, status: summary.status, gate: summary.gate.verdict };
    if (summary.gate.verdict === "aborted") this.log.warn(fields, "phase.ended");
    else this.log.info(fields, "phase.ended");
    this.phaseSpan = undefined;
    this.phase = undefined;
    this.setLevel(BASE_LOG_LEVEL);
  }

  /** A phase that threw (pre-phase check, storage): its span ends as an error. */
  phaseFailed(error: unknown): void {
    this.phaseSpan?.setStatus({
      code: SpanStatusCode.ERROR,
      message: (error as Error)?.message ?? String(error),
    });
    this.phaseSpan?.end();
    this.phaseSpan = undefined;
    this.phase = undefined;
    this.setLevel(BASE_LOG_LEVEL);
  }

  async cycleEnded(end: { status: string; verdict: string; reason?: string }): Promise<void> {
    this.cycleSpan.setAttributes({ "tiers.status": end.status, "tiers.verdict": end.verdict });
    if (end.status !== "completed")
      this.cycleSpan.setStatus({ code: SpanStatusCode.ERROR, message: end.reason ?? end.status });
    this.cycleSpan.end();
    const fields = {
      status: end.status,
      verdict: end.verdict,
      ...(end.reason ? { reason: end.reason } : {}),
    };
    if (end.status === "failed") this.log.error(fields, "cycle.ended");
    else this.log.info(fields, "cycle.ended");
    await this.parent.flush();
  }
}
