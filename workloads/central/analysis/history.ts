import { detectChangePoints, type ChangePointOptions } from "./change-points.js";
import { betterDirection } from "./metric-info.js";
import { phaseOrder } from "./phase-order.js";
import type { HistoryRow } from "./queries.js";

/** The metrics whose history a report follows: tail latency, throughput, SUT CPU, errors. */
export const HISTORY_METRICS = ["load.p99_ms", "load.rps", "sut.cpu_pct", "load.errors"] as const;

export interface HistoryPoint {
  readonly cycle_id: string;
  readonly started_at: string;
  /** The metric's median in that run, averaged over the run's environments. */
  readonly value: number;
}

export interface HistoryChange {
  readonly cycle_id: string;
  readonly started_at: string;
  readonly index: number;
  readonly before: number;
  readonly after: number;
  readonly relative_change: number | null;
  readonly p_value: number;
  /** `regressed`/`improved` from the metric's better direction, else `changed`. */
  readonly direction: "regressed" | "improved" | "changed";
}

export interface HistorySeries {
  readonly phase: string;
  readonly metric: string;
  readonly points: readonly HistoryPoint[];
  readonly change_points: readonly HistoryChange[];
}

export interface HistoryOptions extends ChangePointOptions {
  /**
   * Change points whose means differ by less than this fraction are not reported: significant is
   * not the same as large (default 0.05, as the baseline comparison).
   */
  readonly minRelativeChange?: number;
}

/** Per phase and metric: the runs' values in time order and the runs where behaviour changed. */
export function buildHistory(rows: readonly HistoryRow[], options: HistoryOptions = {}): HistorySeries[] {
  const minChange = options.minRelativeChange ?? 0.05;
  const series = new Map<string, Map<string, { started_at: string; sum: number; n: number }>>();
  for (const r of rows) {
    const key = `${r.phase}\u0000${r.metric}`;
    let byCycle = series.get(key);
    if (!byCycle)
      series.set(key, (byCycle = new Map<string, { started_at: string; sum: number; n: number }>()));
    const point = byCycle.get(r.cycle_id) ?? { started_at: r.started_at, sum: 0, n: 0 };
    point.sum += r.p50;
    point.n++;
    byCycle.set(r.cycle_id, point);
  }
  const out: HistorySeries[] = [];
  for (const [key, byCycle] of series) {
    const [phase, metric] = key.split("\u0000") as [string, string];
    const points = [...byCycle]
      .map(([cycle_id, p]) => ({ cycle_id, started_at: p.started_at, value: p.sum / p.n }))
      .sort((a, b) => a.started_at.localeCompare(b.started_at) || a.cycle_id.localeCompare(b.cycle_id));
    const better = betterDirection(metric);
    const change_points = detectChangePoints(
      points.map((p) => p.value),
      options,
    )
      .filter((cp) => cp.relativeChange === null || Math.abs(cp.relativeChange) >= minChange)
      .map((cp) => {
        const at = points[cp.index]!;
        const up = cp.meanAfter > cp.meanBefore;
        return {
          cycle_id: at.cycle_id,
          started_at: at.started_at,
          index: cp.index,
          before: cp.meanBefore,
          after: cp.meanAfter,
          relative_change: cp.relativeChange,
          p_value: cp.pValue,
          direction: better === "none" ? "changed" : up === (better === "higher") ? "improved" : "regressed",
        } satisfies HistoryChange;
      });
    out.push({ phase, metric, points, change_points });
  }
  return out.sort((a, b) => a.metric.localeCompare(b.metric) || phaseOrder(a.phase) - phaseOrder(b.phase));
}
