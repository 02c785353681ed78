/** How a phase's samples sit against its target band (PhaseSummary's `cpu` / `memory`). */
export interface BandJudgement {
  readonly min: number;
  readonly max: number;
  readonly mean: number | null;
  readonly p95: number | null;
  /** The mean lies in the band; null without samples. */
  readonly reached: boolean | null;
}

/** Judges `values` (percent) against `band` by their mean; p95 is nearest-rank. */
export function judgeBand(
  values: readonly number[],
  band: { readonly min: number; readonly max: number },
): BandJudgement {
  if (values.length === 0) return { ...band, mean: null, p95: null, reached: null };
  const sorted = [...values].sort((a, b) => a - b);
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const p95 = sorted[Math.max(0, Math.ceil(0.95 * sorted.length) - 1)]!;
  return { min: band.min, max: band.max, mean, p95, reached: mean >= band.min && mean <= band.max };
}

/** RSS as a percent of the memory the environment grants (the seed's memory targets are percentages). */
export function memoryPercent(rssBytes: number, memoryBytes: number): number {
  return (rssBytes / memoryBytes) * 100;
}
