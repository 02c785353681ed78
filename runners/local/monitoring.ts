import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Monitoring } from "../../tiers/schema/catalog.js";
import { ExitCode, TiersError } from "../../tiers/errors.js";
import {
  renderLocalAlertmanagerConfig,
  renderLocalPrometheusConfig,
  type LocalScrapeEnvironment,
} from "../../tiers/monitoring/prometheus-config.js";
import { dashboardQueries, generateDashboards } from "../../tiers/monitoring/dashboards.js";
import { generateRules, renderRulesFile, RULES_FILE } from "../../tiers/monitoring/rules.js";
import { freeLoopbackPort } from "./environments.js";

/** An alert Prometheus reported firing during the run: from its first to its last firing sample. */
export interface FiredAlert {
  readonly alert: string;
  readonly severity: string;
  readonly environment: string;
  readonly action: string;
  readonly first_firing_at: string;
  readonly last_firing_at: string;
}

export interface LocalMonitoringOptions {
  readonly monitoring: Monitoring;
  readonly environments: readonly LocalScrapeEnvironment[];
  /** The plan's time scale: the scrape interval and every alert's `for` shrink with the phases. */
  readonly timeScale: number;
  readonly signal: AbortSignal;
  /** PEM of the run's CA, when the orchestrators serve HTTPS: Prometheus scrapes them verified. */
  readonly orchestratorCa?: string;
}

const BINARIES = { prometheus: "prometheus", alertmanager: "prometheus-alertmanager" } as const;

/** Whether an executable of that name is on PATH. */
function onPath(binary: string): boolean {
  return (process.env.PATH ?? "").split(delimiter).some((d) => {
    try {
      accessSync(join(d, binary), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** A free loopback port (the system's choice; Prometheus cannot report one it picked itself). */
const freePort = freeLoopbackPort;

/**
 * Debian's Prometheus and Alertmanager on loopback for one local run (`tiers local --monitoring`):
 * temp directories, free ports, the generated rules, every environment's orchestrator and SUT
 * scraped. `firedAlerts` asks Prometheus which alerts fired; `stop` stops both and removes the
 * directory, on every path.
 */
export class LocalMonitoring {
  private readonly children: ChildProcess[] = [];
  private dir: string | undefined;
  private startedAt = Date.now();
  prometheusUrl = "";
  alertmanagerUrl = "";
  scrapeIntervalS = 1;

  constructor(private readonly options: LocalMonitoringOptions) {}

  /** Where Prometheus' API is, and how often it scrapes and evaluates. */
  describe(): string {
    return `monitoring: Prometheus ${this.prometheusUrl} and Alertmanager ${this.alertmanagerUrl} (scrape and evaluation every ${this.scrapeIntervalS}s, alert for-durations × ${this.options.timeScale})`;
  }

  async start(): Promise<void> {
    const o = this.options;
    const missing = Object.values(BINARIES).filter((b) => !onPath(b));
    if (missing.length > 0) {
      throw new TiersError(
        ExitCode.Infrastructure,
        `--monitoring needs ${missing.join(" and ")} on PATH (Debian: apt-get install prometheus prometheus-alertmanager)`,
      );
    }
    this.startedAt = Date.now();
    this.dir = await mkdtemp(join(tmpdir(), "tiers-monitoring-"));
    this.scrapeIntervalS = Math.max(1, Math.round(o.monitoring.prometheus.scrape_interval_s * o.timeScale));
    const rules = generateRules(o.monitoring, { availability: "scrape", forScale: o.timeScale });
    await writeFile(join(this.dir, RULES_FILE), renderRulesFile(rules));
    const [promPort, amPort] = [await freePort(), await freePort()];
    await writeFile(join(this.dir, "alertmanager.yml"), renderLocalAlertmanagerConfig());
    const caFile = o.orchestratorCa !== undefined ? join(this.dir, "orchestrator-ca.pem") : undefined;
    if (caFile !== undefined) await writeFile(caFile, o.orchestratorCa!);
    await writeFile(
      join(this.dir, "prometheus.yml"),
      renderLocalPrometheusConfig({
        scrapeIntervalS: this.scrapeIntervalS,
        environments: o.environments,
        alertmanager: `127.0.0.1:${amPort}`,
        ruleFile: join(this.dir, RULES_FILE),
        ...(caFile !== undefined ? { orchestratorCaFile: caFile } : {}),
      }),
    );
    this.alertmanagerUrl = `http://127.0.0.1:${amPort}`;
    this.prometheusUrl = `http://127.0.0.1:${promPort}`;
    this.spawn(BINARIES.alertmanager, [
      `--config.file=${join(this.dir, "alertmanager.yml")}`,
      `--storage.path=${join(this.dir, "alertmanager")}`,
      `--web.listen-address=127.0.0.1:${amPort}`,
      "--cluster.listen-address=",
    ]);
    this.spawn(BINARIES.prometheus, [
      `--config.file=${join(this.dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(this.dir, "prometheus")}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
      "--storage.tsdb.retention.time=1d",
    ]);
    await Promise.all([this.ready(this.alertmanagerUrl), this.ready(this.prometheusUrl)]);
  }

  private spawn(binary: string, args: string[]): void {
    const child = spawn(binary, args, { stdio: ["ignore", "ignore", "pipe"], detached: true });
    const tail: string[] = [];
    child.stderr?.on("data", (b: Buffer) => {
      tail.push(...b.toString().split("\n").filter(Boolean));
      tail.splice(0, Math.max(0, tail.length - 5));
    });
    (child as ChildProcess & { tail?: string[] }).tail = tail;
    child.once("error", () => undefined);
    this.children.push(child);
  }

  private async ready(url: string): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (this.options.signal.aborted) throw new TiersError(ExitCode.Interrupted, "interrupted");
      const died = this.children.find((c) => c.exitCode !== null || c.signalCode !== null);
      if (died) {
        const tail = (died as ChildProcess & { tail?: string[] }).tail ?? [];
        throw new TiersError(
          ExitCode.Infrastructure,
          `${died.spawnfile} exited before it was ready${tail.length ? `: ${tail.join(" | ")}` : ""}`,
        );
      }
      try {
        const r = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2000) });
        if (r.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        throw new TiersError(ExitCode.Infrastructure, `${url} was not ready within 30 s`);
      }
      await sleep(200);
    }
  }

  /** Runs a PromQL range query over the run so far (HTTP API); the result's series. */
  async queryRange(expr: string): Promise<{ metric: Record<string, string>; values: [number, string][] }[]> {
    const end = Date.now() / 1000;
    const start = this.startedAt / 1000;
    const url = new URL("/api/v1/query_range", this.prometheusUrl);
    url.search = new URLSearchParams({
      query: expr,
      start: String(start),
      end: String(end),
      step: `${this.scrapeIntervalS}s`,
    }).toString();
    const r = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    const body = (await r.json()) as {
      status: string;
      error?: string;
      data?: { result: { metric: Record<string, string>; values: [number, string][] }[] };
    };
    if (body.status !== "success") throw new Error(`Prometheus refused ${expr}: ${body.error ?? r.status}`);
    return body.data!.result;
  }

  /** Every alert that fired during the run, with when it first and last fired (Prometheus' ALERTS series). */
  async firedAlerts(): Promise<FiredAlert[]> {
    const series = await this.queryRange('ALERTS{alertstate="firing"}');
    const actions = new Map(this.options.monitoring.alerts.map((a) => [a.name, a.action]));
    return series
      .filter((s) => s.values.length > 0)
      .map((s) => ({
        alert: s.metric.alertname ?? "?",
        severity: s.metric.severity ?? "?",
        environment: s.metric.environment ?? "?",
        action: actions.get(s.metric.alertname ?? "") ?? "",
        first_firing_at: new Date(s.values[0]![0] * 1000).toISOString(),
        last_firing_at: new Date(s.values.at(-1)![0] * 1000).toISOString(),
      }))
      .sort((a, b) => a.first_firing_at.localeCompare(b.first_firing_at) || a.alert.localeCompare(b.alert));
  }

  /** Runs every generated dashboard panel query over the run; the ones that returned no data. */
  async emptyDashboardQueries(): Promise<{ total: number; empty: string[] }> {
    const queries = dashboardQueries(
      generateDashboards(this.options.monitoring),
      `${Math.max(4 * this.scrapeIntervalS, 4)}s`,
      // The dashboard's range is the run so far, as a Grafana opened on it would show.
      `${Math.max(1, Math.ceil((Date.now() - this.startedAt) / 1000))}s`,
    );
    const empty: string[] = [];
    for (const q of queries) {
      const series = await this.queryRange(q.expr);
      if (!series.some((s) => s.values.length > 0)) empty.push(`${q.dashboard} / ${q.panel}: ${q.expr}`);
    }
    return { total: queries.length, empty };
  }

  /** Stops both (SIGTERM to each process group, SIGKILL after 5 s; at once when `force`) and removes the directory. */
  async stop(force = false): Promise<void> {
    await Promise.all(
      this.children.map(async (c) => {
        if (c.exitCode !== null || c.signalCode !== null || c.pid === undefined) return;
        const exited = new Promise<void>((resolve) => c.once("exit", () => resolve()));
        const kill = (sig: NodeJS.Signals) => {
          try {
            process.kill(-c.pid!, sig);
          } catch {
            // already gone
          }
        };
        kill(force ? "SIGKILL" : "SIGTERM");
        const timer = setTimeout(() => kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(timer);
      }),
    );
    if (this.dir !== undefined) await rm(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }

  /** The pids of the processes started (tests check they are gone after teardown). */
  get pids(): number[] {
    return this.children.flatMap((c) => (c.pid === undefined ? [] : [c.pid]));
  }

  get directory(): string | undefined {
    return this.dir;
  }
}
