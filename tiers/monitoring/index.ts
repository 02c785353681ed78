/**
 * tiers/monitoring/: Prometheus rules, Grafana dashboards and Prometheus scrape configuration
 * generated from the catalog (monitoring.yaml). Pure functions: no Pulumi, no I/O.
 */
export * from "./signals.js";
export * from "./rules.js";
export * from "./dashboards.js";
export * from "./cluster-settings.js";
export * from "./prometheus-config.js";
