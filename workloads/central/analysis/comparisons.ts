import {
  compareValues,
  controlFalseDiscoveries,
  DEFAULT_THRESHOLDS,
  type Change,
  type Thresholds,
} from "./compare.js";
import { phaseOrder } from "./phase-order.js";
import { median } from "./stats.js";
import type { StoredBundle } from "./queries.js";

type Grouped = Map<number, Map<string, Map<string, number[]>>>;

export interface RunChange extends Change {
  readonly environment: string;
  readonly region: string;
  readonly phase: string;
}

/**
 * Baseline vs candidate, per environment × phase × sample series. Environments are paired by id;
 * when each run has exactly one environment they are paired whatever their ids.
 */
export function compareRuns(
  baseline: readonly StoredBundle[],
  candidate: readonly StoredBundle[],
  samples: Grouped,
  thresholds: Thresholds = DEFAULT_THRESHOLDS,
): RunChange[] {
  const pairs: [StoredBundle, StoredBundle][] =
    baseline.length === 1 && candidate.length === 1
      ? [[baseline[0]!, candidate[0]!]]
      : candidate.flatMap((c) => {
          const b = baseline.find((x) => x.environment_id === c.environment_id);
          return b ? [[b, c] as [StoredBundle, StoredBundle]] : [];
        });
  const out: RunChange[] = [];
  for (const [b, c] of pairs) {
    const bp = samples.get(b.bundle_key) ?? new Map<string, Map<string, number[]>>();
    const cp = samples.get(c.bundle_key) ?? new Map<string, Map<string, number[]>>();
    for (const phase of [...cp.keys()]
      .filter((p) => bp.has(p))
      .sort((x, y) => phaseOrder(x) - phaseOrder(y))) {
      const bs = bp.get(phase)!;
      const cs = cp.get(phase)!;
      for (const series of [...cs.keys()].filter((s) => bs.has(s)).sort())
        out.push({
          environment: c.environment_id,
          region: c.region,
          phase,
          ...compareValues(series, bs.get(series)!, cs.get(series)!, thresholds),
        });
    }
  }
  return controlFalseDiscoveries(out, thresholds);
}

export interface PeerStat {
  readonly group: string;
  readonly environments: readonly string[];
  readonly median: number;
  /** (group median − median of all groups' medians) / |that median|. */
  readonly deviation: number | null;
  /** Against the reference group (the primary region's); null for the reference itself. */
  readonly change: Change | null;
}

export interface PeerComparison {
  readonly phase: string;
  readonly metric: string;
  readonly reference: string;
  readonly groups: readonly PeerStat[];
}

/**
 * The same phase across the environments (or regions) of one cycle: each group's median, its
 * deviation from the groups' median, and a Mann–Whitney comparison with the reference group
 * (the one holding the primary region). Groups by `key` — environment id or region.
 */
export function comparePeers(
  bundles: readonly StoredBundle[],
  samples: Grouped,
  key: (b: StoredBundle) => string,
  thresholds: Thresholds = DEFAULT_THRESHOLDS,
): PeerComparison[] {
  const groups = new Map<string, StoredBundle[]>();
  for (const b of bundles) groups.set(key(b), [...(groups.get(key(b)) ?? []), b]);
  if (groups.size < 2) return [];
  const reference = key(bundles.find((b) => b.region_role === "primary") ?? bundles[0]!);
  const values = (group: readonly StoredBundle[], phase: string, series: string) =>
    group.flatMap((b) => samples.get(b.bundle_key)?.get(phase)?.get(series) ?? []);
  const phaseSeries = new Set<string>();
  for (const b of bundles)
    for (const [phase, bySeries] of samples.get(b.bundle_key) ?? [])
      for (const series of bySeries.keys()) phaseSeries.add(`${phase}\u0000${series}`);
  const out: PeerComparison[] = [];
  for (const ps of phaseSeries) {
    const [phase, metric] = ps.split("\u0000") as [string, string];
    const ref = values(groups.get(reference)!, phase, metric);
    const stats = [...groups]
      .map(([group, members]) => ({ group, members, v: values(members, phase, metric) }))
      .filter((g) => g.v.length > 0);
    if (stats.length < 2) continue;
    const medians = stats.map((g) => median(g.v));
    const centre = median(medians);
    out.push({
      phase,
      metric,
      reference,
      groups: stats.map((g, i) => ({
        group: g.group,
        environments: g.members.map((m) => m.environment_id),
        median: medians[i]!,
        deviation: centre === 0 ? null : (medians[i]! - centre) / Math.abs(centre),
        change:
          g.group === reference || ref.length === 0 ? null : compareValues(metric, ref, g.v, thresholds),
      })),
    });
  }
  // Adjust across every group comparison of the cycle at once.
  const flat = out.flatMap((p) => p.groups.flatMap((g) => (g.change ? [g.change] : [])));
  const adjusted = controlFalseDiscoveries(flat, thresholds);
  let k = 0;
  const judged = out.map((p) => ({
    ...p,
    groups: p.groups.map((g) => (g.change ? { ...g, change: adjusted[k++]! } : g)),
  }));
  return judged.sort((a, b) => phaseOrder(a.phase) - phaseOrder(b.phase) || a.metric.localeCompare(b.metric));
}
