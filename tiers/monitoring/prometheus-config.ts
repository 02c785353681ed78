import { stringify } from "yaml";

/** One environment's scrape targets on this machine. */
export interface LocalScrapeEnvironment {
  readonly id: string;
  /** host:port of the orchestrator's API (GET /metrics). */
  readonly orchestrator: string;
  /** host:port of the environment's SUT (GET /metrics). */
  readonly sut: string;
}

export interface LocalPrometheusConfig {
  readonly scrapeIntervalS: number;
  readonly environments: readonly LocalScrapeEnvironment[];
  /** host:port of the Alertmanager Prometheus sends its alerts to. */
  readonly alertmanager: string;
  /** The rule file's path. */
  readonly ruleFile: string;
  /**
   * Scrape the orchestrators over HTTPS, trusting this CA file (when their API serves TLS). The
   * SUT stays plain HTTP. @default undefined (http)
   */
  readonly orchestratorCaFile?: string;
}

/**
 * A Prometheus configuration scraping every environment's orchestrator and SUT, each series
 * labelled with `environment` and `component` (what the generated rules and dashboards group by),
 * with the generated rules and an Alertmanager. Pure: written by `tiers local --monitoring`.
 */
export function renderLocalPrometheusConfig(c: LocalPrometheusConfig): string {
  const interval = `${c.scrapeIntervalS}s`;
  const tls = c.orchestratorCaFile !== undefined;
  return stringify(
    {
      global: { scrape_interval: interval, evaluation_interval: interval, scrape_timeout: interval },
      rule_files: [c.ruleFile],
      alerting: { alertmanagers: [{ static_configs: [{ targets: [c.alertmanager] }] }] },
      scrape_configs: [
        {
          job_name: "orchestrator",
          ...(tls ? { scheme: "https", tls_config: { ca_file: c.orchestratorCaFile } } : {}),
          static_configs: c.environments.map((e) => ({
            targets: [e.orchestrator],
            labels: { environment: e.id, component: "orchestrator" },
          })),
        },
        {
          job_name: "sut",
          static_configs: c.environments.map((e) => ({
            targets: [e.sut],
            labels: { environment: e.id, component: "sut" },
          })),
        },
      ],
    },
    { lineWidth: 0 },
  );
}

/** An Alertmanager configuration that keeps alerts (for its API) and sends them nowhere. */
export function renderLocalAlertmanagerConfig(): string {
  return stringify({
    route: {
      receiver: "keep",
      group_by: ["alertname", "environment"],
      group_wait: "1s",
      group_interval: "5s",
    },
    receivers: [{ name: "keep" }],
  });
}
