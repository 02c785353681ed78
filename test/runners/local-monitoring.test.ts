/**
 * `tiers local --monitoring` end to end with Debian's prometheus and prometheus-alertmanager: a
 * short chaos-tier run (one environment, the default time scale) in which CascadingFailure must
 * fire during the chaos phase and appear in the summary and the report, every generated dashboard
 * panel query must return data from that Prometheus, and nothing may be left running; and SIGTERM
 * during the run stops Prometheus and Alertmanager too.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { CycleReport } from "../../workloads/central/analysis/report-model.js";
import { startLocalRun } from "../helpers/local-run.js";
import { tempDir } from "../support/temp.js";

const out = await tempDir("tiers-monitoring-run-");
afterAll(() => out.remove());

/** Pids of running prometheus / prometheus-alertmanager processes whose command line names `needle`. */
function monitoringPids(needle: string): number[] {
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .flatMap((d) => {
      try {
        const cmd = readFileSync(`/proc/${d}/cmdline`, "utf8").split("\0");
        return /prometheus/.test(cmd[0] ?? "") && cmd.some((a) => a.includes(needle)) ? [Number(d)] : [];
      } catch {
        return [];
      }
    });
}

describe("tiers local --monitoring", () => {
  it("fires CascadingFailure in the chaos phase, shows it in the summary and the report, and every dashboard query has data", async () => {
    const dir = join(out.path, "chaos");
    const run = startLocalRun([
      "--tier",
      "chaos",
      "--environments",
      "1",
      "--monitoring",
      "--out",
      dir,
      "--db",
      join(dir, "central.db"),
    ]);
    const m = await run.waitFor(/monitoring: Prometheus (http:\/\/127\.0\.0\.1:\d+)/, 120_000);
    const prometheus = m[1]!;
    expect(new URL(prometheus).hostname).toBe("127.0.0.1");
    const code = await run.exited;
    const text = run.output();
    expect(text).toContain("stopped: Prometheus and Alertmanager, their directory removed");
    // The chaos gate aborts on the same condition the alert watches.
    expect(code, text).toBe(4);
    const summary = /alerts fired \(Prometheus [^)]+\): (\d+)/.exec(text);
    expect(summary, text).not.toBeNull();
    expect(text).toMatch(
      / {2}CascadingFailure \(critical\) in env-1: firing \S+ → \S+; action activate_circuit_breakers/,
    );
    expect(text).toMatch(/dashboard panel queries with data: (\d+) of \1\n/);

    const runDir = readdirSync(dir).find((d) => d.startsWith("local-"))!;
    const report = JSON.parse(readFileSync(join(dir, runDir, "report.json"), "utf8")) as CycleReport;
    const cascade = report.monitoring?.alerts.find((a) => a.alert === "CascadingFailure");
    expect(cascade, JSON.stringify(report.monitoring)).toBeDefined();
    const chaos = report.phases.find((p) => p.phase === "chaos" && p.environment_id === "env-1")!;
    const firing = Date.parse(cascade!.first_firing_at);
    expect(firing).toBeGreaterThanOrEqual(Date.parse(chaos.started_at!));
    // Firing is evaluated on the scrape after the phase's last load second at the latest.
    expect(firing).toBeLessThanOrEqual(Date.parse(chaos.ended_at!) + 5_000);
    expect(report.monitoring!.dashboard_queries!.total).toBeGreaterThan(10);
    expect(report.monitoring!.dashboard_queries!.empty).toStrictEqual([]);
    expect(readFileSync(join(dir, runDir, "report.md"), "utf8")).toMatch(
      /\*\*Alerts fired\*\* \(\d+, Prometheus [^)]+\)[\s\S]*- CascadingFailure \(critical\) in env-1: /,
    );
    expect(readFileSync(join(dir, runDir, "report.html"), "utf8")).toContain('<section id="alerts">');
    // Nothing of the monitoring is left: no process and no directory.
    expect(monitoringPids(`127.0.0.1:${new URL(prometheus).port}`)).toStrictEqual([]);
    expect(
      await fetch(`${prometheus}/-/ready`).then(
        () => "answered",
        () => "refused",
      ),
    ).toBe("refused");
  }, 400_000);

  it.each(["SIGTERM", "SIGINT"] as const)(
    "stops Prometheus and Alertmanager on %s during the run",
    async (signal) => {
      const dir = join(out.path, signal);
      const run = startLocalRun([
        "--tier",
        "base",
        "--environments",
        "1",
        "--monitoring",
        "--out",
        dir,
        "--db",
        join(dir, "central.db"),
      ]);
      const m = await run.waitFor(
        /monitoring: Prometheus http:\/\/127\.0\.0\.1:(\d+) and Alertmanager http:\/\/127\.0\.0\.1:(\d+)/,
        120_000,
      );
      const [promPort, amPort] = [m[1]!, m[2]!];
      expect(monitoringPids(`127.0.0.1:${promPort}`)).toHaveLength(1);
      expect(monitoringPids(`127.0.0.1:${amPort}`)).toHaveLength(1);
      run.child.kill(signal);
      const code = await run.exited;
      expect(code, run.output()).toBe(130);
      expect(run.output()).toContain("stopped: Prometheus and Alertmanager, their directory removed");
      expect(monitoringPids(`127.0.0.1:${promPort}`)).toStrictEqual([]);
      expect(monitoringPids(`127.0.0.1:${amPort}`)).toStrictEqual([]);
      const tmp = readdirSync("/tmp").filter(
        (d) => d.startsWith("tiers-monitoring-") && existsSync(join("/tmp", d, "prometheus.yml")),
      );
      for (const d of tmp)
        expect(readFileSync(join("/tmp", d, "prometheus.yml"), "utf8")).not.toContain(`127.0.0.1:${amPort}`);
    },
    300_000,
  );
});
