/**
 * Telemetry benchmarks (issue 13), printed side by side in one run:
 * 1. the orchestrator process's CPU (% of one core) per phase of the same cycle run twice, without
 *    (TIERS_TELEMETRY=off) and with logs, traces and fault/test metrics; the difference is what
 *    telemetry adds (target ≤ 2 % of a core per phase);
 * 2. the time one `/metrics` scrape takes under load, over HTTP: the sample SUT's exposition (its own
 *    process) while `wrk` drives its /work (a process of its own, as a load worker is), and the
 *    orchestrator's registry with a running seven-phase cycle's figures (target ≤ 10 ms). The
 *    scraper is this process, as Prometheus is a process of its own.
 *
 * Both cycles run with their load in one worker process (`load_workers: 1`, `tiers local`'s
 * default and the cluster's shape: load off the orchestrator's loop), so the orchestrator's CPU is
 * its own work, and the difference between the two runs is telemetry's.
 *
 *   npm run bench -- telemetry [--time-scale 0.004] [--scrapes 200]
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { loadCatalog } from "../../tiers/catalog.js";
import { compilePlan } from "../../tiers/plan/compile.js";
import { resolvePlanOptions } from "../../tiers/plan/options.js";
import { OrchestratorMetrics } from "../../workloads/orchestrator/api/metrics.js";
import { createApiServer, listen } from "../../workloads/orchestrator/api/server.js";
import { CycleProgress } from "../../workloads/orchestrator/controller/progress.js";
import { readProcStat } from "../../workloads/orchestrator/process/proc.js";
import { SutSupervisor } from "../../workloads/sut/supervisor.js";

const { values } = parseArgs({
  options: {
    "time-scale": { type: "string", default: "0.004" },
    scrapes: { type: "string", default: "200" },
  },
});
const BIN = fileURLToPath(new URL("../../bin/orchestrator.js", import.meta.url));
const TICKS_PER_S = 100;
const dir = mkdtempSync(join(tmpdir(), "bench-telemetry-"));
console.log(
  `load average at start: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}`,
);

// The chaos tier: all seven phases (their log levels INFO…TRACE, trace rates 0.1…1), absolute load.
const plan = compilePlan({
  resolved: resolvePlanOptions({
    defaults: {},
    cli: { tier: "chaos", time_scale: values["time-scale"], load_scale: "0.02" },
  }),
  catalog: loadCatalog(),
});
const planFile = join(dir, "plan.json");
writeFileSync(planFile, JSON.stringify(plan));
const configFile = join(dir, "orchestrator.json");
writeFileSync(configFile, JSON.stringify({ load_workers: 1 }));
const bounds = plan.environments[0]!.phases.reduce<{ name: string; end: number }[]>((acc, p) => {
  acc.push({ name: p.name, end: (acc.at(-1)?.end ?? 0) + p.duration_ms });
  return acc;
}, []);

/** Runs one cycle and samples the orchestrator process's CPU every 250 ms, attributed to phases by plan time. */
async function measure(label: string, env: NodeJS.ProcessEnv): Promise<Map<string, number>> {
  const child = spawn(
    process.execPath,
    [
      BIN,
      "run-cycle",
      planFile,
      "--config",
      configFile,
      "--data-dir",
      join(dir, `data-${label}`),
      "--env",
      "env-1",
    ],
    { stdio: ["ignore", "pipe", "ignore"], env: { ...process.env, ...env } },
  );
  const ticks = new Map<string, { ticks: number; ms: number }>();
  let startedAt = 0;
  child.stdout.on("data", (d: Buffer) => {
    for (const line of d.toString().split("\n").filter(Boolean))
      if ((JSON.parse(line) as { event: string }).event === "cycle.started") startedAt = performance.now();
  });
  let last: { ticks: number; at: number } | undefined;
  const timer = setInterval(() => {
    const stat = readProcStat(child.pid!);
    if (!stat) return;
    const now = performance.now();
    const t = stat.utime + stat.stime;
    if (last && startedAt) {
      const phase = bounds.find((b) => now - startedAt < b.end)?.name;
      if (phase) {
        const p = ticks.get(phase) ?? { ticks: 0, ms: 0 };
        p.ticks += t - last.ticks;
        p.ms += now - last.at;
        ticks.set(phase, p);
      }
    }
    last = { ticks: t, at: now };
  }, 250);
  await new Promise((r) => child.once("exit", r));
  clearInterval(timer);
  return new Map([...ticks].map(([k, v]) => [k, (v.ticks / TICKS_PER_S / (v.ms / 1000)) * 100]));
}

async function scrapeTimes(url: string, n: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const res = await fetch(url);
    await res.text();
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b);
}
const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

/** What the scrape part started, stopped on every path. */
const cleanups: (() => Promise<unknown> | void)[] = [];
try {
  const off = await measure("off", { TIERS_TELEMETRY: "off" });
  const on = await measure("on", {});
  console.log("\norchestrator CPU per phase, % of one core (target: telemetry adds ≤ 2)");
  console.log("phase      without   with   added");
  for (const b of bounds) {
    const a = off.get(b.name);
    const w = on.get(b.name);
    const f = (x: number | undefined) => (x === undefined ? "   n/a" : x.toFixed(1).padStart(6));
    console.log(
      `${b.name.padEnd(9)} ${f(a)}  ${f(w)}  ${a === undefined || w === undefined ? "  n/a" : (w - a).toFixed(1).padStart(6)}`,
    );
  }

  // 2. Scrapes under load.
  const n = Number(values.scrapes);
  const sut = new SutSupervisor({ host: "127.0.0.1", work: { cpuMs: 0, delayMs: 0, errorRate: 0.01 } });
  cleanups.push(() => sut.stop());
  await sut.start();
  const env = plan.environments[0]!;
  const progress = new CycleProgress("bench-cycle", plan, env);
  for (const p of progress.phases.slice(0, 3))
    Object.assign(p, { status: "completed", started_ms: Date.now() });
  progress.current = progress.phases[3]!.name;
  Object.assign(progress.latest, { rps: 950, p99_ms: 12, errors: 3, cpu_pct: 40, rss_bytes: 1e8 });
  const metrics = new OrchestratorMetrics(env.id, {
    running: () => progress,
    lastEnd: () => undefined,
    cycleCount: () => 42,
  });
  for (let i = 0; i < 500; i++) metrics.testEnded(env.phases[i % 7]!.name, "passed", i / 10);
  const api = createApiServer(
    {
      health: () => ({ ok: true, detail: {} }),
      trigger: () => ({ cycle_id: "bench-cycle", resumed: false }),
      cycles: () => [],
      cycle: () => undefined,
      exportBundle: () => Promise.resolve({}),
      bundles: () => [],
      bundleFile: () => undefined,
      metrics: () => metrics.render(),
      publicKey: () => ({ key_id: "", keyring_line: "" }),
    },
    { token: "x".repeat(32) },
  );
  const apiPort = await listen(api, "127.0.0.1", 0);
  const wrk = spawn("wrk", ["-t1", "-c20", "-d120s", new URL("/work", sut.url).toString()], {
    stdio: "ignore",
  });
  cleanups.push(() => {
    if (wrk.exitCode === null) wrk.kill("SIGINT");
  });
  await new Promise((r) => setTimeout(r, 1000));
  const sutTimes = await scrapeTimes(new URL("/metrics", sut.url).toString(), n);
  const orchTimes = await scrapeTimes(`http://127.0.0.1:${apiPort}/metrics`, n);
  wrk.kill("SIGINT");
  await new Promise((r) => wrk.once("exit", r));
  console.log(
    `\n/metrics scrape under load (${n} scrapes each, wrk -c20 on the SUT's /work; target ≤ 10 ms)`,
  );
  console.log("endpoint        p50 ms   p99 ms   max ms");
  for (const [name, t] of [
    ["sut", sutTimes],
    ["orchestrator", orchTimes],
  ] as const)
    console.log(
      `${name.padEnd(14)} ${pct(t, 50).toFixed(2).padStart(7)}  ${pct(t, 99).toFixed(2).padStart(7)}  ${t.at(-1)!.toFixed(2).padStart(7)}`,
    );
  api.close();
} finally {
  for (const stop of cleanups.reverse()) await stop();
  rmSync(dir, { recursive: true, force: true });
}
