import { stringify } from "yaml";
import { ExitCode, TiersError } from "../errors.js";
import type { AlertRule, Monitoring } from "../schema/catalog.js";
import { parseDurationMs } from "../units.js";
import { SIGNALS, thresholdIn, type AvailabilitySource } from "./signals.js";

export interface RuleOptions {
  /** @default "scrape" (the local target); the cluster uses "kube-state-metrics". */
  readonly availability?: AvailabilitySource;
  /**
   * Multiplies every alert's `for` (the catalog's 5m, 3m, 2m). Only for short test runs, where a
   * chaos phase lasts seconds: `tiers local --monitoring-for-scale 0.05` makes 2m into 6s.
   * @default 1
   */
  readonly forScale?: number;
}

export interface RecordingRule {
  readonly record: string;
  readonly expr: string;
}

export interface AlertingRule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels: { readonly severity: string };
  readonly annotations: Readonly<Record<string, string>>;
}

export interface RuleGroup {
  readonly name: string;
  readonly rules: readonly (RecordingRule | AlertingRule)[];
}

/** What the generator made of the catalog's alerts: rule groups, and those it could not express. */
export interface GeneratedRules {
  readonly groups: readonly RuleGroup[];
  /** The alerts, with the catalog condition each came from (tests and the local target use them). */
  readonly alerts: readonly GeneratedAlert[];
  /** Catalog alerts that no exported series measures, each with the reason. */
  readonly skipped: readonly { readonly alert: string; readonly reason: string }[];
}

export interface GeneratedAlert {
  readonly name: string;
  readonly severity: string;
  readonly record: string;
  readonly op: ">" | ">=" | "<" | "<=" | "==";
  readonly threshold: number;
  /** Seconds; 0 when the catalog gives no `for`. */
  readonly forSeconds: number;
  readonly expr: string;
}

/** The rule file's name where one is written (`tiers monitoring rules --out`, the local Prometheus). */
export const RULES_FILE = "tiers-rules.yaml";

export const RULE_GROUP = "test-tiers";

/**
 * Prometheus recording and alerting rules for the catalog's alerts (monitoring.yaml `alerts`):
 * one recording rule per measured metric, one alert per catalog alert with its severity as a
 * label and the seed's action as an annotation. Pure: the same rules are checked by promtool,
 * loaded by the local Prometheus and deployed as a PrometheusRule.
 */
export function generateRules(monitoring: Monitoring, options: RuleOptions = {}): GeneratedRules {
  const source = options.availability ?? "scrape";
  const scale = options.forScale ?? 1;
  if (!(scale > 0) || !Number.isFinite(scale)) {
    throw new TiersError(
      ExitCode.InvalidConfig,
      `forScale: not a positive number (got ${JSON.stringify(scale)}, expected a number > 0)`,
    );
  }
  const recording = new Map<string, RecordingRule>();
  const alerts: GeneratedAlert[] = [];
  const alerting: AlertingRule[] = [];
  const skipped: { alert: string; reason: string }[] = [];
  monitoring.alerts.forEach((a, i) => {
    const signal = SIGNALS[a.condition.metric];
    if (!signal) {
      skipped.push({
        alert: a.name,
        reason: `monitoring.yaml alerts[${i}].condition.metric: no exported series measures ${JSON.stringify(a.condition.metric)} (measured: ${Object.keys(SIGNALS).join(", ")})`,
      });
      return;
    }
    const threshold = thresholdIn(signal, a.condition);
    if (threshold === undefined) {
      throw new TiersError(
        ExitCode.InvalidConfig,
        `monitoring.yaml alerts[${i}].condition.unit: ${a.name}'s unit does not convert to ${signal.unit} (got ${JSON.stringify(a.condition.unit)})`,
      );
    }
    recording.set(signal.record, { record: signal.record, expr: signal.expr(source) });
    const forSeconds = a.condition.for ? Math.round((parseDurationMs(a.condition.for)! / 1000) * scale) : 0;
    const expr = `${signal.record} ${a.condition.op === "==" ? "==" : a.condition.op} ${threshold}`;
    alerts.push({
      name: a.name,
      severity: a.severity,
      record: signal.record,
      op: a.condition.op,
      threshold,
      forSeconds,
      expr,
    });
    alerting.push({
      alert: a.name,
      expr,
      ...(forSeconds > 0 ? { for: promDuration(forSeconds) } : {}),
      labels: { severity: a.severity },
      annotations: annotations(a, signal.help, forSeconds),
    });
  });
  return {
    // One group, recording rules first: Prometheus evaluates a group's rules in order at one
    // timestamp, so each alert sees its recording rule's value of the same evaluation and fires
    // exactly `for` after its condition first held (in separate groups it would lag an interval).
    groups: [{ name: RULE_GROUP, rules: [...recording.values(), ...alerting] }],
    alerts,
    skipped,
  };
}

function annotations(a: AlertRule, help: string, forSeconds: number): Record<string, string> {
  const c = a.condition;
  const unit = c.unit === "percent" ? "%" : ` ${c.unit}`;
  return {
    summary: `${a.name}: ${help} ${c.op} ${c.value}${unit}${forSeconds > 0 ? ` for ${promDuration(forSeconds)}` : ""} in {{ $labels.environment }}`,
    description: `${help} is {{ printf "%.4g" $value }} in environment {{ $labels.environment }}`,
    action: a.action,
  };
}

/** Seconds as Prometheus writes a duration: 300 → "5m", 6 → "6s". */
export function promDuration(seconds: number): string {
  return seconds % 60 === 0 ? `${seconds / 60}m` : `${seconds}s`;
}

/** The rules as a Prometheus rule file (what `promtool check rules` and `rule_files` read). */
export function renderRulesFile(rules: GeneratedRules): string {
  return stringify({ groups: rules.groups }, { lineWidth: 0 });
}
