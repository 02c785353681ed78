import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { registerProcessMetrics } from "../shared/process-metrics.js";
import { SUT_METRICS as M, type ExportedMetric } from "../shared/metric-names.js";

const spec = (m: ExportedMetric) => ({ name: m.name, help: m.help, labelNames: [...m.labels] as string[] });

/**
 * The sample SUT's Prometheus metrics through prom-client, on a registry of its own per SUT (tests
 * start several in one process): the series of `SUT_METRICS` (workloads/shared/metric-names.ts)
 * and the standard process metrics.
 */
export interface SutMetrics {
  readonly registry: Registry;
  readonly requests: Counter;
  readonly requestErrors: Counter;
  readonly duration: Histogram;
  readonly injected: Counter;
  readonly writes: Counter;
  readonly written: Counter;
}

export function createSutMetrics(
  inflight: () => number,
  sessions: () => { readonly count: number; readonly bytes: number } = () => ({ count: 0, bytes: 0 }),
): SutMetrics {
  const registry = new Registry();
  const registers = [registry];
  registerProcessMetrics(registry);
  new Gauge({
    ...spec(M.inflight),
    registers,
    collect() {
      this.set(inflight());
    },
  });
  new Gauge({
    ...spec(M.sessions),
    registers,
    collect() {
      this.set(sessions().count);
    },
  });
  new Gauge({
    ...spec(M.sessionBytes),
    registers,
    collect() {
      this.set(sessions().bytes);
    },
  });
  return {
    registry,
    requests: new Counter({ ...spec(M.requests), registers }),
    requestErrors: new Counter({ ...spec(M.requestErrors), registers }),
    duration: new Histogram({ ...spec(M.duration), buckets: [...M.duration.buckets], registers }),
    injected: new Counter({ ...spec(M.injectedErrors), registers }),
    writes: new Counter({ ...spec(M.storageWrites), registers }),
    written: new Counter({ ...spec(M.storageBytes), registers }),
  };
}
