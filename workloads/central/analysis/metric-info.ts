/**
 * What a metric name means for analysis: its unit and which direction is better. Sample series are
 * named `<source>.<quantity>[_<unit>]` (`load.p99_ms`, `sut.cpu_pct`); result metrics are
 * `<test>:<contract result>` (`iperf_loopback:bandwidth`). Rules are checked in order; the first
 * that matches decides. A metric with no known direction gets `changed` instead of
 * `improved`/`regressed`.
 */
export type Better = "higher" | "lower" | "none";

interface Rule {
  readonly test: RegExp;
  readonly better: Better;
}

const RULES: readonly Rule[] = [
  { test: /^(errors?|error_rate|non_2xx|timeouts|retransmits|lost_percent)$/, better: "lower" },
  { test: /(latency|clat|jitter|_ms$|p\d\d(_ms)?$|wall_clock|elapsed|_time$)/, better: "lower" },
  { test: /(cpu|mem|rss)/, better: "lower" },
  {
    test: /(rps|iops|_bw$|bandwidth|throughput|bogo_ops|ops_per_sec|entries_per_sec|requests$)/,
    better: "higher",
  },
];

const UNIT_SUFFIXES: readonly [RegExp, string][] = [
  [/_ms$/, "ms"],
  [/_pct$/, "percent"],
  [/_bytes$/, "bytes"],
  [/\.rps$/, "req/sec"],
  [/\.errors$/, "count"],
];

/** Decided on the last name segment, so a test called `cpu_headroom` does not make its ops "lower is better". */
export function betterDirection(metric: string): Better {
  const quantity = metric.slice(Math.max(metric.lastIndexOf("."), metric.lastIndexOf(":")) + 1);
  return RULES.find((r) => r.test.test(quantity))?.better ?? "none";
}

/** Unit of a sample series from its name (`load.p99_ms` → ms), or undefined. */
export function seriesUnit(series: string): string | undefined {
  return UNIT_SUFFIXES.find(([re]) => re.test(series))?.[1];
}
