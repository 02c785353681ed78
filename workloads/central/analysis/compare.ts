import { mannWhitneyU } from "./mann-whitney.js";
import { betterDirection, type Better } from "./metric-info.js";
import { median } from "./stats.js";

/**
 * A change is called a regression or an improvement only when it is both significant and large
 * enough to matter: Mann–Whitney p below `alpha`, |Cliff's delta| at least `minCliffsDelta`
 * (0.147 is the conventional "small" effect), and the medians at least `minRelativeChange`
 * apart. Per-second samples of one run are not independent, so the p-value alone would call
 * noise a regression; the two effect sizes are what keep it honest. A report makes hundreds of
 * such tests at once, so `alpha` applies to Benjamini–Hochberg adjusted p-values across all of
 * them (`controlFalseDiscoveries`): at most that share of the changes reported is expected to be
 * noise.
 */
export interface Thresholds {
  readonly alpha: number;
  readonly minCliffsDelta: number;
  readonly minRelativeChange: number;
  /** Fewer values than this on either side → `insufficient_data`. */
  readonly minSamples: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = {
  alpha: 0.01,
  minCliffsDelta: 0.147,
  minRelativeChange: 0.05,
  minSamples: 5,
};

export type Verdict = "improved" | "regressed" | "unchanged" | "changed" | "insufficient_data";

export interface Change {
  readonly metric: string;
  readonly better: Better;
  readonly baseline: { readonly count: number; readonly median: number };
  readonly candidate: { readonly count: number; readonly median: number };
  /** (candidate median − baseline median) / |baseline median|; null when the baseline median is 0. */
  readonly relativeChange: number | null;
  readonly pValue: number | null;
  /** Benjamini–Hochberg adjusted over every comparison of the same report (equal to pValue alone). */
  readonly pAdjusted: number | null;
  /** P(candidate > baseline) − P(candidate < baseline). */
  readonly cliffsDelta: number | null;
  /** 1 − adjusted p: how sure the test is that the distributions differ. */
  readonly confidence: number | null;
  readonly verdict: Verdict;
}

/** Compares a metric's values from a baseline run and a candidate run. */
export function compareValues(
  metric: string,
  baseline: ArrayLike<number>,
  candidate: ArrayLike<number>,
  thresholds: Thresholds = DEFAULT_THRESHOLDS,
): Change {
  const better = betterDirection(metric);
  const b = { count: baseline.length, median: baseline.length ? median(baseline) : NaN };
  const c = { count: candidate.length, median: candidate.length ? median(candidate) : NaN };
  const relativeChange =
    b.median === 0 || Number.isNaN(b.median) || Number.isNaN(c.median)
      ? null
      : (c.median - b.median) / Math.abs(b.median);
  if (b.count < thresholds.minSamples || c.count < thresholds.minSamples)
    return {
      metric,
      better,
      baseline: b,
      candidate: c,
      relativeChange,
      pValue: null,
      pAdjusted: null,
      cliffsDelta: null,
      confidence: null,
      verdict: "insufficient_data",
    };
  const test = mannWhitneyU(candidate, baseline);
  const change = {
    metric,
    better,
    baseline: b,
    candidate: c,
    relativeChange,
    pValue: test.pValue,
    pAdjusted: test.pValue,
    cliffsDelta: test.cliffsDelta,
    confidence: 1 - test.pValue,
    verdict: "unchanged" as Verdict,
  };
  return { ...change, verdict: verdictOf(change, thresholds) };
}

function verdictOf(c: Omit<Change, "verdict">, thresholds: Thresholds): Verdict {
  if (c.pAdjusted === null || c.cliffsDelta === null) return "insufficient_data";
  const large =
    Math.abs(c.cliffsDelta) >= thresholds.minCliffsDelta &&
    (c.relativeChange === null || Math.abs(c.relativeChange) >= thresholds.minRelativeChange);
  if (!(c.pAdjusted < thresholds.alpha && large)) return "unchanged";
  const up = c.cliffsDelta > 0;
  return c.better === "none" ? "changed" : up === (c.better === "higher") ? "improved" : "regressed";
}

/** Benjamini–Hochberg step-up adjustment (R's p.adjust(p, "BH")); nulls stay null and are not counted. */
export function adjustBenjaminiHochberg(ps: readonly (number | null)[]): (number | null)[] {
  const idx = ps.flatMap((p, i) => (p === null ? [] : [i])).sort((a, b) => ps[a]! - ps[b]!);
  const m = idx.length;
  const out: (number | null)[] = ps.map(() => null);
  let running = 1;
  for (let k = m - 1; k >= 0; k--) {
    const i = idx[k]!;
    running = Math.min(running, (ps[i]! * m) / (k + 1));
    out[i] = running;
  }
  return out;
}

/** Re-judges a report's comparisons with p-values adjusted across all of them. */
export function controlFalseDiscoveries<T extends Change>(
  changes: readonly T[],
  thresholds: Thresholds = DEFAULT_THRESHOLDS,
): T[] {
  const adjusted = adjustBenjaminiHochberg(changes.map((c) => c.pValue));
  return changes.map((c, i) => {
    const pAdjusted = adjusted[i] ?? null;
    const next = { ...c, pAdjusted, confidence: pAdjusted === null ? null : 1 - pAdjusted };
    return { ...next, verdict: verdictOf(next, thresholds) };
  });
}

export function countVerdicts(changes: readonly { readonly verdict: Verdict }[]): Record<Verdict, number> {
  const out: Record<Verdict, number> = {
    improved: 0,
    regressed: 0,
    unchanged: 0,
    changed: 0,
    insufficient_data: 0,
  };
  for (const c of changes) out[c.verdict]++;
  return out;
}
