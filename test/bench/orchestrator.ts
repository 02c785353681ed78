/**
 * Orchestrator benchmarks (issue 4), printed side by side in one run:
 * 1. controller overhead: a cycle's wall time against the plan's phase time D (target ≤ 1.03·D + 2 s);
 * 2. the orchestrator process's own CPU (% of one core) and RSS while phases run (target < 5 %,
 *    < 150 MB), per phase — its in-process load generator (autocannon) is part of the process, so
 *    the idle phase (no load) shows the controller alone and the loaded phases what the load adds;
 * 3. environment storage: samples inserted per second (target ≥ 50,000/s).
 *
 *   npm run bench -- orchestrator [--time-scale 0.01] [--samples 500000]
 */
import { execFileSync, spawn } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { loadCatalog } from "../../tiers/catalog.js";
import { compilePlan } from "../../tiers/plan/compile.js";
import { resolvePlanOptions } from "../../tiers/plan/options.js";
import type { Sample } from "../../workloads/shared/cycle.js";
import { readProcStat, readRssBytes } from "../../workloads/orchestrator/process/proc.js";
import { EnvStore } from "../../workloads/orchestrator/storage/env-store.js";

const { values } = parseArgs({
  options: {
    "time-scale": { type: "string", default: "0.01" },
    samples: { type: "string", default: "500000" },
  },
});
const BIN = fileURLToPath(new URL("../../bin/orchestrator.js", import.meta.url));
const TICKS_PER_S = 100;
const dir = mkdtempSync(join(tmpdir(), "bench-orch-"));
console.log(
  `load average at start: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}`,
);

// 1 and 2: a stress-tier cycle, absolute load (no calibration), the built-in suite.
const plan = compilePlan({
  resolved: resolvePlanOptions({
    defaults: {},
    cli: { tier: "stress", time_scale: values["time-scale"], load_scale: "0.02" },
  }),
  catalog: loadCatalog(),
});
const planFile = join(dir, "plan.json");
writeFileSync(planFile, JSON.stringify(plan));
const D = plan.totals.phase_time_ms / 1000;
const bounds = plan.environments[0]!.phases.reduce<{ name: string; end: number }[]>((acc, p) => {
  acc.push({ name: p.name, end: (acc.at(-1)?.end ?? 0) + p.duration_ms });
  return acc;
}, []);

interface Variant {
  readonly label: string;
  readonly command: readonly string[];
}

/** Runs one cycle and samples the orchestrator process (not its SUT or tools) every second. */
async function measure(
  v: Variant,
): Promise<{ wall: number; perPhase: Map<string, { cpu: number[]; rss: number[] }> }> {
  const child = spawn(
    process.execPath,
    [...v.command, "run-cycle", planFile, "--data-dir", join(dir, `data-${v.label}`), "--env", "env-1"],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const perPhase = new Map<string, { cpu: number[]; rss: number[] }>();
  let startedAt = 0;
  let endedAt = 0;
  let lastTicks: number | undefined;
  let lastTime = 0;
  child.stdout.on("data", (d: Buffer) => {
    for (const line of d.toString().split("\n").filter(Boolean)) {
      const e = JSON.parse(line) as { event: string };
      if (e.event === "cycle.started") startedAt = performance.now();
      if (e.event === "cycle.ended") endedAt = performance.now();
    }
  });
  const timer = setInterval(() => {
    const stat = readProcStat(child.pid!);
    const rss = readRssBytes(child.pid!);
    if (!stat || rss === undefined) return;
    const ticks = stat.utime + stat.stime;
    const now = performance.now();
    const t = startedAt ? now - startedAt : -1;
    const phase = t < 0 ? "(start-up)" : (bounds.find((b) => t < b.end)?.name ?? "(after the phases)");
    if (lastTicks !== undefined) {
      const p = perPhase.get(phase) ?? { cpu: [], rss: [] };
      p.cpu.push(((ticks - lastTicks) / TICKS_PER_S / ((now - lastTime) / 1000)) * 100);
      p.rss.push(rss);
      perPhase.set(phase, p);
    }
    lastTicks = ticks;
    lastTime = now;
  }, 1000);
  await new Promise((r) => child.once("exit", r));
  clearInterval(timer);
  return { wall: (endedAt - startedAt) / 1000, perPhase };
}

// The local target runs the sources through tsx; the image runs them compiled (npm run build:workloads).
const compiled = join(dir, "dist");
execFileSync(
  process.execPath,
  [
    fileURLToPath(new URL("../../node_modules/typescript/bin/tsc", import.meta.url)),
    "-p",
    "tsconfig.build.json",
    "--outDir",
    compiled,
  ],
  {
    cwd: fileURLToPath(new URL("../../", import.meta.url)),
  },
);
cpSync(fileURLToPath(new URL("../../tiers/catalog", import.meta.url)), join(compiled, "tiers", "catalog"), {
  recursive: true,
});
symlinkSync(fileURLToPath(new URL("../../node_modules", import.meta.url)), join(dir, "node_modules"));
const variants: Variant[] = [
  { label: "tsx", command: [BIN] },
  { label: "compiled", command: [join(compiled, "workloads", "orchestrator", "main.js")] },
];
const results = [];
for (const v of variants) results.push({ v, r: await measure(v) });

console.log("\n1. Controller overhead (stress tier, absolute load × 0.02, built-in suite)");
for (const { v, r } of results) {
  console.log(
    `   ${v.label.padEnd(9)} phases D = ${D.toFixed(1)} s   cycle wall = ${r.wall.toFixed(1)} s   limit 1.03·D + 2 = ${(1.03 * D + 2).toFixed(1)} s   wall/D = ${(r.wall / D).toFixed(3)}   ${r.wall <= 1.03 * D + 2 ? "within target" : "OVER target"}`,
  );
}
console.log("\n2. Orchestrator process CPU (% of one core) and RSS, sampled every second");
console.log(
  "   phase           " +
    results.map(({ v }) => `${v.label}: mean CPU %  max CPU %  max RSS MB`.padEnd(44)).join(""),
);
for (const phase of [...new Set(results.flatMap(({ r }) => [...r.perPhase.keys()]))]) {
  const cells = results.map(({ r }) => {
    const p = r.perPhase.get(phase);
    if (!p) return "-".padEnd(44);
    const mean = p.cpu.reduce((a, b) => a + b, 0) / p.cpu.length;
    return `${mean.toFixed(1).padStart(18)} ${Math.max(...p.cpu)
      .toFixed(1)
      .padStart(10)} ${(Math.max(...p.rss) / 2 ** 20).toFixed(1).padStart(11)}`.padEnd(44);
  });
  console.log(`   ${phase.padEnd(15)} ${cells.join("")}`);
}
console.log(
  "   (targets: < 5 % CPU, < 150 MB RSS while a phase runs; loaded phases include the in-process load generator)",
);

// 3: storage.
const store = EnvStore.open(join(dir, "bench.db"));
store.createCycle("bench", "env-1", plan, new Date().toISOString());
const total = Number(values.samples);
console.log(`\n3. Environment storage: ${total.toLocaleString()} samples`);
for (const batch of [1000, 100, 10]) {
  const n = batch === 10 ? Math.min(total, 50_000) : total;
  // Samples as the phase runner writes them: increasing timestamps over a handful of series.
  const series = ["sut.cpu_pct", "sut.rss_bytes", "load.rps", "load.p99_ms", "load.errors"];
  let ts = 1_700_000_000_000 + batch * 10_000_000;
  const t0 = performance.now();
  for (let i = 0; i < n; i += batch) {
    const rows: Sample[] = Array.from({ length: batch }, (_, k) => ({
      ts_ms: ts++,
      phase: "heavy",
      series: series[k % series.length]!,
      value: k,
    }));
    store.insertSamples("bench", 1, rows);
  }
  const s = (performance.now() - t0) / 1000;
  console.log(
    `   batch ${String(batch).padStart(5)} per transaction: ${Math.round(n / s)
      .toLocaleString()
      .padStart(10)} samples/s (${n.toLocaleString()} in ${s.toFixed(2)} s)`,
  );
}
console.log("   (target ≥ 50,000 samples/s; the phase runner commits one batch per second)");
store.close();
console.log(
  `\nload average at end: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}`,
);
rmSync(dir, { recursive: true, force: true });
