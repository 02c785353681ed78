/**
 * The orchestrator's /metrics registry on its own: `tiers_results_total` is a real counter (every
 * status from 0, it grows with each committed result and keeps its value between cycles), the
 * process's event-loop lag and GC pauses come from prom-client's collectors, and each load
 * worker's event-loop delay is a gauge per worker that goes when the worker does.
 */
import { describe, expect, it } from "vitest";
import { OrchestratorMetrics } from "../../../workloads/orchestrator/api/metrics.js";
import { CycleProgress } from "../../../workloads/orchestrator/controller/progress.js";
import { ORCHESTRATOR_METRICS, RUNTIME_METRICS } from "../../../workloads/shared/metric-names.js";
import { RESULT_STATUSES, type ResultStatus } from "../../../workloads/shared/result.js";
import { testPlan } from "../../helpers/orchestrator.js";
import { promtoolCheckMetrics } from "../../support/promtool.js";

const plan = testPlan({ tier: "base", time_scale: "0.004", load_scale: "0.2" });
const planEnv = plan.environments[0]!;

/** An environment's metrics, with the running cycle the test sets. */
function metricsWith(): {
  metrics: OrchestratorMetrics;
  start: (id: string) => CycleProgress;
  end: () => void;
} {
  let running: CycleProgress | undefined;
  const metrics = new OrchestratorMetrics(planEnv.id, {
    running: () => running,
    lastEnd: () => undefined,
    cycleCount: () => 0,
  });
  return {
    metrics,
    start: (id) => {
      running = new CycleProgress(id, plan, planEnv);
      running.onResult((status) => metrics.resultCommitted(status));
      return running;
    },
    end: () => (running = undefined),
  };
}

/** Every sample of `name` in an exposition, by its label text. */
function samples(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`).exec(line);
    if (m) out.set(m[1] ?? "", Number(m[2]));
  }
  return out;
}

const resultsOf = async (metrics: OrchestratorMetrics): Promise<Record<string, number>> => {
  const s = samples(await metrics.render(), ORCHESTRATOR_METRICS.results.name);
  return Object.fromEntries(
    RESULT_STATUSES.map((status) => [status, s.get(`{environment="${planEnv.id}",status="${status}"}`)!]),
  );
};

const tally = (statuses: readonly ResultStatus[]): Record<string, number> =>
  Object.fromEntries(RESULT_STATUSES.map((s) => [s, statuses.filter((x) => x === s).length]));

describe("tiers_results_total", () => {
  it("starts at 0 for every status, grows with each committed result, and keeps its value between cycles", async () => {
    const { metrics, start, end } = metricsWith();
    expect(await resultsOf(metrics)).toStrictEqual(tally([]));
    const first: ResultStatus[] = ["passed", "passed", "failed", "skipped"];
    const second: ResultStatus[] = ["passed", "invalid"];
    const c1 = start("c-1");
    for (const s of first) c1.countResult(s);
    expect(await resultsOf(metrics)).toStrictEqual(tally(first));
    end();
    // No cycle runs: the counter keeps what it counted.
    expect(await resultsOf(metrics)).toStrictEqual(tally(first));
    const c2 = start("c-2");
    expect(await resultsOf(metrics)).toStrictEqual(tally(first));
    for (const s of second) c2.countResult(s);
    expect(await resultsOf(metrics)).toStrictEqual(tally([...first, ...second]));
    // The cycle's own tally is the cycle's alone.
    expect(c2.results).toStrictEqual(tally(second));
    expect((await metrics.render()).split("\n")).toContain(
      `# TYPE ${ORCHESTRATOR_METRICS.results.name} counter`,
    );
  });

  it("never decreases, whatever the cycles and results (a fast sequence of starts, results and ends)", async () => {
    const { metrics, start, end } = metricsWith();
    const steps: (ResultStatus | "start" | "end")[] = [];
    for (let i = 0; i < 60; i++)
      steps.push(i % 7 === 0 ? "start" : i % 11 === 0 ? "end" : RESULT_STATUSES[i % 4]!);
    let progress = start("c-0");
    let previous = await resultsOf(metrics);
    const counted: ResultStatus[] = [];
    for (const [i, step] of steps.entries()) {
      if (step === "start") progress = start(`c-${i}`);
      else if (step === "end") end();
      else {
        progress.countResult(step);
        counted.push(step);
      }
      const now = await resultsOf(metrics);
      for (const s of RESULT_STATUSES) expect(now[s]).toBeGreaterThanOrEqual(previous[s]!);
      previous = now;
    }
    expect(previous).toStrictEqual(tally(counted));
  });
});

describe("the load generator's event loop and GC", () => {
  it("exports this process's event-loop lag and GC pauses from prom-client's collectors", async () => {
    const { metrics } = metricsWith();
    const text = await metrics.render();
    for (const [name, type] of Object.entries(RUNTIME_METRICS))
      expect(text).toContain(`# TYPE ${name} ${type}`);
    // Once the monitor has sampled the loop, a scrape reads its delays: ordered, and not all 0.
    let lag = new Map<string, number>();
    while (!(lag.get("nodejs_eventloop_lag_max_seconds")! > 0)) {
      await new Promise((r) => setTimeout(r, 20));
      const now = await metrics.render();
      lag = new Map(
        ["min", "p50", "p99", "max"].map((k) => {
          const name = `nodejs_eventloop_lag_${k}_seconds`;
          return [name, samples(now, name).get("")!];
        }),
      );
    }
    const [min, p50, p99, max] = [...lag.values()];
    expect(min).toBeLessThanOrEqual(p50!);
    expect(p50).toBeLessThanOrEqual(p99!);
    expect(p99).toBeLessThanOrEqual(max!);
    // Garbage until a collection is observed: the GC histogram counts it by kind.
    let collected = 0;
    while (collected === 0) {
      const junk: number[][] = [];
      for (let i = 0; i < 2000; i++) junk.push(Array.from({ length: 100 }, (_, j) => j));
      await new Promise((r) => setImmediate(r));
      const counts = samples(await metrics.render(), "nodejs_gc_duration_seconds_count");
      collected = [...counts.values()].reduce((a, n) => a + n, 0);
    }
    expect(collected).toBeGreaterThan(0);
  });

  it("one monitor and one GC observer serve every registry of the process: two environments share them", async () => {
    const a = metricsWith().metrics;
    const b = metricsWith().metrics;
    for (const name of Object.keys(RUNTIME_METRICS)) {
      expect(a.registry.getSingleMetric(name)).toBeDefined();
      expect(a.registry.getSingleMetric(name)).toBe(b.registry.getSingleMetric(name));
    }
    for (const m of [a, b])
      expect(samples(await m.render(), "nodejs_eventloop_lag_p99_seconds").get("")).toBeGreaterThanOrEqual(0);
  });

  it("has a gauge per running load worker, labelled by its pid, that goes when the worker exits", async () => {
    const { metrics } = metricsWith();
    metrics.second(4101, { mean_ms: 1.5, p99_ms: 12, max_ms: 40 });
    metrics.second(4102, { mean_ms: 1, p99_ms: 3, max_ms: 8 });
    metrics.second(4101, { mean_ms: 2, p99_ms: 20, max_ms: 50 });
    const text = await metrics.render();
    const p99 = samples(text, ORCHESTRATOR_METRICS.workerLoopP99.name);
    const max = samples(text, ORCHESTRATOR_METRICS.workerLoopMax.name);
    const label = (pid: number) => `{environment="${planEnv.id}",worker="${pid}"}`;
    expect(Object.fromEntries(p99)).toStrictEqual({ [label(4101)]: 20 / 1000, [label(4102)]: 3 / 1000 });
    expect(Object.fromEntries(max)).toStrictEqual({ [label(4101)]: 50 / 1000, [label(4102)]: 8 / 1000 });
    expect(await promtoolCheckMetrics(text)).toStrictEqual({ code: 0, out: "" });
    metrics.ended(4101);
    const after = await metrics.render();
    expect([...samples(after, ORCHESTRATOR_METRICS.workerLoopP99.name).keys()]).toStrictEqual([label(4102)]);
    expect([...samples(after, ORCHESTRATOR_METRICS.workerLoopMax.name).keys()]).toStrictEqual([label(4102)]);
  });
});
