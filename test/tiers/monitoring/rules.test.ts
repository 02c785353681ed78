import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { loadCatalog } from "../../../tiers/catalog.js";
import {
  generateRules,
  promDuration,
  renderRulesFile,
  type GeneratedAlert,
  type GeneratedRules,
} from "../../../tiers/monitoring/rules.js";
import type { AvailabilitySource } from "../../../tiers/monitoring/signals.js";
import { tempDir } from "../../support/temp.js";

const INTERVAL_S = 15;
const ENV = "env-a";
const SCRAPE_TARGETS = 201;
const catalog = loadCatalog();

/**
 * The raw series that make `alert.record` equal `v` in environment ENV: the input promtool feeds
 * the recording rule (so the recording rule is tested along with the alert).
 */
function seriesFor(
  alert: GeneratedAlert,
  v: number,
  source: AvailabilitySource,
): { series: string; value: number }[] {
  const env = `environment="${ENV}"`;
  switch (alert.record) {
    case "environment:tiers_sut_cpu:percent":
      return [{ series: `tiers_sut_cpu_percent{${env}}`, value: v }];
    case "environment:tiers_sut_memory:percent":
      return [{ series: `tiers_sut_memory_percent{${env}}`, value: v }];
    case "environment:tiers_load_errors:ratio":
      return [{ series: `tiers_load_error_ratio{${env}}`, value: v }];
    case "environment:tiers_load_latency_p95:seconds":
      return [{ series: `tiers_load_p95_seconds{${env}}`, value: v }];
    case "environment:tiers_sut_replicas_available:percent": {
      if (source === "kube-state-metrics") {
        // 100000 desired replicas make a hundredth of a percent expressible in whole replicas.
        const ns = `namespace="tiers-${ENV}",deployment="sut"`;
        return [
          { series: `kube_deployment_spec_replicas{${ns}}`, value: 100000 },
          { series: `kube_deployment_status_replicas_available{${ns}}`, value: Math.round(v * 1000) },
        ];
      }
      // Scrape targets are up or not: the nearest to v percent of 201 targets (100 up is 49.75 %, 101 is 50.25 %).
      const up = Math.round((v / 100) * SCRAPE_TARGETS);
      return Array.from({ length: SCRAPE_TARGETS }, (_, i) => ({
        series: `up{${env},component="sut",instance="sut-${i}"}`,
        value: i < up ? 1 : 0,
      }));
    }
    default:
      throw new Error(`no input series for ${alert.record}`);
  }
}

/** A hair beyond the threshold (the alert's condition holds) and a hair short of it (it does not). */
function hair(alert: GeneratedAlert): { beyond: number; short: number } {
  const eps = Math.max(Math.abs(alert.threshold), 1) * 1e-4;
  const up = alert.op === ">" || alert.op === ">=";
  return { beyond: alert.threshold + (up ? eps : -eps), short: alert.threshold + (up ? -eps : eps) };
}

function expectedAnnotations(rules: GeneratedRules, name: string, value: number): Record<string, string> {
  const group = rules.groups.find((g) => g.rules.some((r) => "alert" in r && r.alert === name))!;
  const rule = group.rules.find((r) => "alert" in r && r.alert === name)! as {
    annotations: Record<string, string>;
  };
  return Object.fromEntries(
    Object.entries(rule.annotations).map(([k, t]) => [
      k,
      t.replaceAll("{{ $labels.environment }}", ENV).replaceAll('{{ printf "%.4g" $value }}', goG4(value)),
    ]),
  );
}

/** Go's `%.4g` for the values these cases use (no exponent form needed). */
function goG4(v: number): string {
  return String(Number(v.toPrecision(4)));
}

interface Case {
  readonly name: string;
  readonly test: Record<string, unknown>;
}

/** promtool cases for one alert: beyond for the whole `for` fires; short of it, or for less time, does not. */
function casesFor(rules: GeneratedRules, alert: GeneratedAlert, source: AvailabilitySource): Case[] {
  const { beyond, short } = hair(alert);
  const steps = Math.max(2, alert.forSeconds / INTERVAL_S + 4);
  const input = (v: number): Record<string, unknown>[] =>
    seriesFor(alert, v, source).map((s) => ({ series: s.series, values: `${s.value}+0x${steps}` }));
  const firing = [
    {
      exp_labels: { severity: alert.severity, environment: ENV },
      exp_annotations: expectedAnnotations(rules, alert.name, recorded(alert, beyond, source)),
    },
  ];
  const cases: Case[] = [
    {
      name: `${alert.name}: a hair beyond (${beyond}) for the whole for (${alert.forSeconds}s) fires`,
      test: {
        interval: `${INTERVAL_S}s`,
        input_series: input(beyond),
        alert_rule_test: [
          {
            eval_time: promDuration(alert.forSeconds || INTERVAL_S),
            alertname: alert.name,
            exp_alerts: firing,
          },
        ],
      },
    },
    {
      name: `${alert.name}: a hair short (${short}) for twice the for does not fire`,
      test: {
        interval: `${INTERVAL_S}s`,
        input_series: input(short),
        alert_rule_test: [
          {
            eval_time: promDuration(Math.max(alert.forSeconds, INTERVAL_S) * 2),
            alertname: alert.name,
            exp_alerts: [],
          },
        ],
      },
    },
  ];
  if (alert.forSeconds > 0) {
    cases.push({
      name: `${alert.name}: a hair beyond for one interval less than the for does not fire`,
      test: {
        interval: `${INTERVAL_S}s`,
        input_series: input(beyond),
        alert_rule_test: [
          { eval_time: promDuration(alert.forSeconds - INTERVAL_S), alertname: alert.name, exp_alerts: [] },
        ],
      },
    });
  }
  return cases;
}

/** The value the recording rule yields for input v (whole replicas round it). */
function recorded(alert: GeneratedAlert, v: number, source: AvailabilitySource): number {
  if (alert.record !== "environment:tiers_sut_replicas_available:percent") return v;
  return source === "kube-state-metrics"
    ? (100 * Math.round(v * 1000)) / 100000
    : 100 * (Math.round((v / 100) * SCRAPE_TARGETS) / SCRAPE_TARGETS);
}

async function promtool(args: string[]): Promise<{ exitCode: number; out: string }> {
  const r = await execa("promtool", args, { reject: false, all: true });
  return { exitCode: r.exitCode ?? -1, out: r.all ?? "" };
}

describe.each(["scrape", "kube-state-metrics"] as const)(
  "generated rules (availability from %s) under promtool",
  (source) => {
    const rules = generateRules(catalog.monitoring, { availability: source });
    let dir: { path: string; remove: () => Promise<void> };
    beforeAll(async () => {
      dir = await tempDir("tiers-rules-");
      writeFileSync(join(dir.path, "rules.yaml"), renderRulesFile(rules));
    });
    afterAll(() => dir.remove());

    it("promtool check rules passes", async () => {
      const r = await promtool(["check", "rules", join(dir.path, "rules.yaml")]);
      expect(r.out).toContain("SUCCESS");
      expect(r.exitCode).toBe(0);
    });

    it("generates an alert for every catalog alert an exported series measures, and says why the others are skipped", () => {
      const made = rules.alerts.map((a) => a.name);
      expect([...made, ...rules.skipped.map((s) => s.alert)].sort()).toStrictEqual(
        catalog.monitoring.alerts.map((a) => a.name).sort(),
      );
      for (const name of [
        "SystemOverload",
        "MemoryExhaustion",
        "CascadingFailure",
        "HighLatency",
        "ExpertPoolDegraded",
      ])
        expect(made).toContain(name);
      expect(rules.skipped.map((s) => s.alert)).toStrictEqual(["GcPauseThreshold"]);
      expect(rules.skipped[0]!.reason).toContain(
        'monitoring.yaml alerts[6].condition.metric: no exported series measures "gc_pause"',
      );
    });

    it("carries each catalog alert's severity, for and action", () => {
      const alerting = rules.groups.flatMap((g) => g.rules).filter((r) => "alert" in r);
      for (const a of catalog.monitoring.alerts.filter((x) => rules.alerts.some((g) => g.name === x.name))) {
        const r = alerting.find((x) => x.alert === a.name)!;
        expect(r.labels.severity).toBe(a.severity);
        expect(r.annotations.action).toBe(a.action);
        expect(r.for).toBe(a.condition.for);
      }
    });

    const cases = rules.alerts.flatMap((a) => casesFor(rules, a, source));
    it.each(cases.map((c) => [c.name, c] as const))("promtool test rules: %s", async (_name, c) => {
      const file = join(dir.path, `test-${cases.indexOf(c)}.yaml`);
      writeFileSync(
        file,
        stringify(
          { rule_files: ["rules.yaml"], evaluation_interval: `${INTERVAL_S}s`, tests: [c.test] },
          { lineWidth: 0 },
        ),
      );
      const r = await promtool(["test", "rules", file]);
      expect(r.out).toContain("SUCCESS");
      expect(r.exitCode).toBe(0);
    });

    it("promtool test rules fails a case that expects firing one interval before the for (the cases can fail)", async () => {
      const alert = rules.alerts.find((a) => a.name === "CascadingFailure")!;
      const fires = casesFor(rules, alert, source)[0]!.test as { alert_rule_test: { eval_time: string }[] };
      const early = structuredClone(fires);
      early.alert_rule_test[0]!.eval_time = promDuration(alert.forSeconds - INTERVAL_S);
      const file = join(dir.path, "test-early.yaml");
      writeFileSync(
        file,
        stringify({ rule_files: ["rules.yaml"], evaluation_interval: `${INTERVAL_S}s`, tests: [early] }),
      );
      const r = await promtool(["test", "rules", file]);
      expect(r.out).toContain("FAILED");
      expect(r.exitCode).not.toBe(0);
    });
  },
);

describe("generateRules options", () => {
  it("scales every for by forScale (short test runs)", () => {
    const rules = generateRules(catalog.monitoring, { forScale: 0.05 });
    expect(rules.alerts.find((a) => a.name === "CascadingFailure")!.forSeconds).toBe(6);
    expect(rules.alerts.find((a) => a.name === "SystemOverload")!.forSeconds).toBe(15);
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])(
    "refuses forScale %s with the expected value named",
    (forScale) => {
      expect(() => generateRules(catalog.monitoring, { forScale })).toThrow(
        /^forScale: not a positive number \(got .*, expected a number > 0\)$/,
      );
    },
  );

  it("refuses a condition whose unit does not convert, naming the catalog key", () => {
    const monitoring = {
      ...catalog.monitoring,
      alerts: [
        {
          name: "Odd",
          severity: "warning" as const,
          condition: { metric: "cpu_usage", op: ">" as const, value: 3, unit: "ms" as const },
          action: "x",
        },
      ],
    };
    expect(() => generateRules(monitoring)).toThrow(
      'monitoring.yaml alerts[0].condition.unit: Odd\'s unit does not convert to percent (got "ms")',
    );
  });
});
