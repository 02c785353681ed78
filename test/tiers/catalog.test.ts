import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCatalog } from "../../tiers/catalog.js";
import { PHASE_NAMES, TIER_NAMES } from "../../tiers/schema/names.js";
import { parseDurationMs } from "../../tiers/units.js";
import { scalingMatrix, seedPhases, yamlBlock } from "./seed-source.js";

const catalog = loadCatalog();

/** "4 cores" → 4, "16 GB" → 16, "1 TB SSD" → 1000 (GB), "50+" → 50. */
const leadingNumber = (s: unknown): number => Number(/^([0-9.]+)/.exec(String(s))![1]);
const storageGb = (s: unknown): number => leadingNumber(s) * (/TB/.test(String(s)) ? 1000 : 1);

describe("tier catalog equals seed 001's Tier 1-4 tables", () => {
  it.each(TIER_NAMES)("%s compute and network", (tier) => {
    const seed = yamlBlock(`${tier}_tier`) as {
      compute: Record<string, unknown>;
      network: Record<string, unknown>;
    };
    const t = catalog.tiers[tier];
    expect(t.compute.instances).toBe(leadingNumber(seed.compute.instances));
    expect(t.compute.instances_at_least).toBe(String(seed.compute.instances).endsWith("+"));
    expect(t.compute.cpu_cores).toBe(leadingNumber(seed.compute.cpu));
    expect(t.compute.memory_gb).toBe(leadingNumber(seed.compute.memory));
    expect(t.compute.storage_gb).toBe(storageGb(seed.compute.storage));
    expect(t.compute.storage_media).toBe(String(seed.compute.storage).split(" ").pop()!.toLowerCase());
    expect(t.network.bandwidth_gbps).toBe(leadingNumber(seed.network.bandwidth));
    const latency = String(seed.network.latency);
    const range = /\((\d+)-(\d+)ms\)/.exec(latency);
    if (range) {
      expect(t.network.latency_variable).toBe(true);
      expect(t.network.latency_ms).toStrictEqual({ min: Number(range[1]), max: Number(range[2]) });
    } else {
      expect(t.network.latency_variable).toBe(false);
      expect(t.network.latency_ms).toStrictEqual({ max: Number(/< (\d+)ms/.exec(latency)![1]) });
    }
  });

  it("runs the phases the issue assigns: base through light, stress through heavy, chaos and ultimate all seven", () => {
    expect(catalog.tiers.base.phases).toStrictEqual(["idle", "baseline", "light"]);
    expect(catalog.tiers.stress.phases).toStrictEqual(["idle", "baseline", "light", "medium", "heavy"]);
    expect(catalog.tiers.chaos.phases).toStrictEqual([...PHASE_NAMES]);
    expect(catalog.tiers.ultimate.phases).toStrictEqual([...PHASE_NAMES]);
    expect(catalog.tiers.ultimate.regions).toBe(3);
    expect(TIER_NAMES.filter((t) => catalog.tiers[t].failure_injection)).toStrictEqual(["chaos", "ultimate"]);
  });
});

describe("phase catalog equals seed 001's 7-phase progression", () => {
  const seed = seedPhases();

  it("has the seven phases in order", () => {
    expect(seed.map((p) => p.name)).toStrictEqual([...PHASE_NAMES]);
  });

  it.each(seed.map((p) => [p.name, p] as const))("%s duration, load, bands and objectives", (name, s) => {
    const p = catalog.phases[name as (typeof PHASE_NAMES)[number]];
    expect(p.objectives).toStrictEqual(s.objectives);
    if (s.duration === "Variable") {
      expect(p.duration_s).toBeNull();
      expect(p.default_duration_s).toBeGreaterThan(0);
    } else {
      expect(p.duration_s).toBe(parseDurationMs(s.duration)! / 1000);
    }
    if (s.rps.startsWith("Variable")) {
      const [, lo, hi] = /\((\d+)-(\d+)\)/.exec(s.rps)!;
      expect(p.load).toStrictEqual({
        variable: true,
        rps_range: { min: Number(lo), max: Number(hi) },
        connections: "variable",
      });
      expect(p.scenarios).toHaveLength(s.chaos_scenarios!.length);
    } else {
      expect(p.load).toStrictEqual({ rps: Number(s.rps), connections: Number(s.connections) });
    }
    const band = (text: string | undefined) => {
      if (text === undefined) return undefined;
      const lt = /^< (\d+)%$/.exec(text);
      if (lt) return { max: Number(lt[1]) };
      const [, a, b] = /^(\d+)-(\d+)%$/.exec(text)!;
      return { min: Number(a), max: Number(b) };
    };
    expect(p.cpu_target_pct).toStrictEqual(band(s.cpu_target));
    expect(p.memory_target_pct).toStrictEqual(band(s.memory_target));
  });

  it("names the seed's five chaos scenarios", () => {
    const seedNames = seedPhases().find((p) => p.name === "chaos")!.chaos_scenarios!;
    // "Random pod kills" → pod_kill, "Network partitions" → network_partition, …
    const normalize = (s: string) =>
      s
        .toLowerCase()
        .replace(/^random /, "")
        .replace(/s$/, "")
        .replace(/ /g, "_");
    expect(catalog.phases.chaos.scenarios).toStrictEqual(seedNames.map(normalize));
  });

  it("carries the resource scaling matrix row by row", () => {
    const matrix = scalingMatrix();
    for (const name of PHASE_NAMES) {
      const row = matrix[name]!;
      const p = catalog.phases[name];
      if (row.every((c) => c === "Variable")) {
        expect(p.scaling).toBeNull();
        continue;
      }
      expect(p.scaling).toStrictEqual({
        cpu_cores: Number(row[0]),
        memory_gb: Number(row[1]),
        network_gbps: Number(row[2]),
        storage_tb: Number(row[3]),
        instances: Number(row[4]),
      });
    }
  });

  it("carries log levels and trace sampling per phase", () => {
    const m = yamlBlock("monitoring") as {
      logging: { log_levels: Record<string, string> };
      tracing: { distributed_tracing: { sampling_rate: Record<string, number> } };
    };
    for (const name of PHASE_NAMES) {
      expect(catalog.phases[name].log_level).toBe(m.logging.log_levels[name]);
      expect(catalog.phases[name].trace_sampling).toBe(m.tracing.distributed_tracing.sampling_rate[name]);
    }
  });
});

describe("monitoring, alerts, autoscaling and topology equal seed 001", () => {
  it("keeps Prometheus at 15 s scrape and 30 d retention, and the custom metrics", () => {
    const m = yamlBlock("monitoring") as {
      metrics_collection: {
        prometheus: { scrape_interval: string; retention: string };
        custom_metrics: string[];
      };
      logging: { centralized_logging: { retention: string; index_pattern: string } };
    };
    expect(catalog.monitoring.prometheus.scrape_interval_s * 1000).toBe(
      parseDurationMs(m.metrics_collection.prometheus.scrape_interval),
    );
    expect(catalog.monitoring.prometheus.retention_days * 86_400_000).toBe(
      parseDurationMs(m.metrics_collection.prometheus.retention),
    );
    expect(catalog.monitoring.custom_metrics).toStrictEqual(m.metrics_collection.custom_metrics);
    expect(catalog.monitoring.logging.retention_days * 86_400_000).toBe(
      parseDurationMs(m.logging.centralized_logging.retention),
    );
    expect(catalog.monitoring.logging.index_pattern).toBe(m.logging.centralized_logging.index_pattern);
  });

  it("has every seed alert with its threshold, duration and action", () => {
    const seed = yamlBlock("alerts") as Record<string, { name: string; condition: string; action: string }[]>;
    for (const [severity, alerts] of Object.entries(seed)) {
      for (const a of alerts) {
        const ours = catalog.monitoring.alerts.find((x) => x.name === a.name);
        expect(ours, a.name).toBeDefined();
        expect(ours!.severity).toBe(severity);
        expect(ours!.action).toBe(a.action);
        const [, metric, op, value, unit, forText] = /^(\w+) ([<>]) (\d+)(%|s|ms) ?(?:for (\d+[smh]))?$/.exec(
          a.condition,
        )!;
        expect(ours!.condition.metric.replace(/^p95_latency$/, "p95_latency")).toBe(metric);
        expect(ours!.condition.op).toBe(op);
        expect(ours!.condition.value).toBe(Number(value));
        expect(ours!.condition.unit).toBe(unit === "%" ? "percent" : unit);
        expect(ours!.condition.for).toBe(forText);
      }
    }
  });

  it("has the autoscaling rules", () => {
    const seed = yamlBlock("autoscaling") as {
      horizontal: {
        metrics: Record<string, string>[];
        scale_up: Record<string, unknown>;
        scale_down: Record<string, unknown>;
      };
      vertical: { limits: { max_cpu: number; max_memory: string } };
    };
    const h = catalog.monitoring.autoscaling.horizontal;
    const metrics = Object.assign({}, ...seed.horizontal.metrics) as Record<string, string>;
    expect(h.targets.cpu_utilization_pct).toBe(leadingNumber(metrics.cpu_utilization));
    expect(h.targets.memory_utilization_pct).toBe(leadingNumber(metrics.memory_utilization));
    expect(h.targets.request_rate_rps).toBe(leadingNumber(metrics.request_rate));
    expect(h.scale_up.increment).toBe(seed.horizontal.scale_up.increment);
    expect(h.scale_up.cooldown_s * 1000).toBe(parseDurationMs(String(seed.horizontal.scale_up.cooldown)));
    expect(h.scale_down.decrement).toBe(seed.horizontal.scale_down.decrement);
    expect(h.scale_down.cooldown_s * 1000).toBe(parseDurationMs(String(seed.horizontal.scale_down.cooldown)));
    expect(catalog.monitoring.autoscaling.vertical.limits).toStrictEqual(seed.vertical.limits);
  });

  it("has the three regions with their roles, locations, components and resources", () => {
    const seed = yamlBlock("regions") as Record<
      string,
      { location: string; components: string[]; resources: { compute: string; network: string } }
    >;
    for (const role of ["primary", "secondary", "tertiary"] as const) {
      const r = catalog.topology.regions[role];
      expect(r.location).toBe(seed[role]!.location);
      expect(r.components).toStrictEqual(seed[role]!.components);
      expect(r.resources.compute_instances).toBe(leadingNumber(seed[role]!.resources.compute));
      expect(r.resources.backbone_gbps).toBe(leadingNumber(seed[role]!.resources.network));
    }
  });

  it("has the rollback triggers the gates refer to", () => {
    const seed = yamlBlock("rollback") as { strategies: Record<string, { trigger: string }> };
    const strategies = catalog.monitoring.rollback.strategies;
    expect(strategies.map((s) => s.name)).toStrictEqual(Object.keys(seed.strategies));
    const vr = /> (\d+)%/.exec(seed.strategies.version_rollback!.trigger)!;
    expect(strategies[0]!.trigger.value).toBe(Number(vr[1]));
  });
});

describe("a broken catalog is refused with every problem at once", () => {
  it("names the missing tier, the bad figure and the gate that refers to nothing", () => {
    const dir = mkdtempSync(join(tmpdir(), "tiers-catalog-"));
    try {
      cpSync(catalog.dir, dir, { recursive: true });
      const edit = (file: string, from: RegExp, to: string) => {
        const text = readFileSync(join(dir, file), "utf8");
        expect(text).toMatch(from);
        writeFileSync(join(dir, file), text.replace(from, to));
      };
      edit("tiers.yaml", /\n {2}ultimate:[\s\S]*$/, "\n");
      edit("phases.yaml", /duration_s: 900\n/, "duration_s: -900\n");
      edit("monitoring.yaml", /"alert:HighLatency"/, '"alert:HighLatence"');
      let message = "";
      try {
        loadCatalog(dir);
      } catch (error) {
        message = (error as Error).message;
      }
      const lines = message.split("\n").map((l) => l.trim().replace(`${dir}/`, ""));
      expect(lines[0]).toBe(`invalid catalog in ${dir}`);
      const line =
        readFileSync(join(dir, "phases.yaml"), "utf8").split("\n").indexOf("    duration_s: -900") + 1;
      expect(lines).toContain(
        `phases.yaml:${line}:17 phases[1].duration_s: too small (got -900, expected a value > 0)`,
      );
      expect(
        lines.some((l) =>
          l.includes('gates.default[1].when: names no alert of the catalog (got "alert:HighLatence"'),
        ),
      ).toBe(true);
      expect(
        lines.some((l) =>
          /^tiers\.yaml:\d+:\d+ tiers\.ultimate: is required \(expected a mapping\)$/.test(l),
        ),
      ).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
