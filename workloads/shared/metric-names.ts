/** A result metric's name in the statistics: `<test>:<metric>` (`http_probe:latency_p99`), apart from sample series' dotted names. */
export function resultMetricName(test: string, metric: string): string {
  return `${test}:${metric}`;
}
