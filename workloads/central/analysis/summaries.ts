import type { Insertable } from "kysely";
import type { Sample } from "../../shared/cycle.js";
import { resultMetricName } from "../../shared/metric-names.js";
import type { Result } from "../../shared/result.js";
import type { MetricStatsTable } from "../db/schema.js";
import { seriesUnit } from "./metric-info.js";
import { summarize, ValueBuffer } from "./stats.js";

/**
 * Summary statistics per phase × metric of one bundle, gathered while its samples stream into the
 * database (8 bytes per value, nothing else kept) and from its results' numeric metrics.
 * Samples outside any phase (`phase: null`) are stored but not summarised.
 */
export class PhaseMetricAccumulator {
  /** phase → series → values */
  private readonly groups = new Map<string, Map<string, ValueBuffer>>();

  add(samples: readonly Sample[]): void {
    for (const s of samples) {
      if (s.phase === null) continue;
      let bySeries = this.groups.get(s.phase);
      if (!bySeries) this.groups.set(s.phase, (bySeries = new Map<string, ValueBuffer>()));
      let values = bySeries.get(s.series);
      if (!values) bySeries.set(s.series, (values = new ValueBuffer()));
      values.push(s.value);
    }
  }

  rows(bundleKey: number, results: readonly Result[]): Insertable<MetricStatsTable>[] {
    const rows: Insertable<MetricStatsTable>[] = [];
    for (const [phase, bySeries] of this.groups)
      for (const [series, values] of bySeries)
        rows.push(statsRow(bundleKey, phase, series, "sample", seriesUnit(series) ?? null, values.values()));
    const fromResults = new Map<
      string,
      { phase: string; metric: string; unit: string | null; values: number[] }
    >();
    for (const r of results) {
      if (r.status === "skipped" || r.status === "invalid") continue;
      for (const [name, m] of Object.entries(r.metrics)) {
        if (typeof m.value !== "number") continue;
        const metric = resultMetricName(r.test_name, name);
        const key = `${r.phase}\u0000${metric}`;
        const entry = fromResults.get(key) ?? { phase: r.phase, metric, unit: m.unit ?? null, values: [] };
        entry.values.push(m.value);
        fromResults.set(key, entry);
      }
    }
    for (const e of fromResults.values())
      rows.push(statsRow(bundleKey, e.phase, e.metric, "result", e.unit, e.values));
    return rows;
  }
}

function statsRow(
  bundleKey: number,
  phase: string,
  metric: string,
  source: "sample" | "result",
  unit: string | null,
  values: ArrayLike<number>,
): Insertable<MetricStatsTable> {
  const s = summarize(values);
  return {
    bundle_key: bundleKey,
    phase,
    metric,
    source,
    unit,
    count: s.count,
    mean: s.mean,
    p50: s.p50,
    p90: s.p90,
    p99: s.p99,
    min: s.min,
    max: s.max,
    stddev: s.stddev,
    ci_low: s.ciLow,
    ci_high: s.ciHigh,
  };
}
