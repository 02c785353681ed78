/**
 * How long the offline capture takes: every shipped stack, then the ultimate stack with 2, 4, 8
 * and 16 environments (the time should grow linearly with them). Each figure is the median of
 * --repeat runs, one child process at a time; the runs of all configurations are interleaved so a
 * burst of load on the machine spreads over them instead of landing on one.
 *
 *   npm run bench -- preview-offline [--repeat 5]
 */
import { readdirSync } from "node:fs";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { STACKS_DIR } from "../../stacks/config/source.js";
import { captureStack, type CaptureOptions } from "../../runners/infra/capture.js";
import { renderTable } from "../../runners/format/table.js";

const { values } = parseArgs({ options: { repeat: { type: "string", default: "5" } } });
const repeat = Math.max(1, Number(values.repeat));

interface Figure {
  readonly resources: number;
  readonly programMs: number;
  readonly childMs: number;
  readonly wallMs: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

interface Job {
  readonly stack: string;
  readonly options?: CaptureOptions;
  readonly runs: Figure[];
}

async function runOnce(job: Job): Promise<void> {
  const t = performance.now();
  const g = await captureStack(job.stack, job.options);
  const wallMs = performance.now() - t;
  if (!g.ok) throw new Error(`stack ${job.stack} failed under the mocks: ${g.error?.message ?? "?"}`);
  job.runs.push({
    resources: g.resources.length,
    programMs: g.timings.programMs,
    childMs: g.timings.totalMs,
    wallMs,
  });
}

function summary(job: Job): Figure {
  return {
    resources: job.runs[0]!.resources,
    programMs: median(job.runs.map((r) => r.programMs)),
    childMs: median(job.runs.map((r) => r.childMs)),
    wallMs: median(job.runs.map((r) => r.wallMs)),
  };
}

const s = (ms: number): string => (ms / 1000).toFixed(2);

const stacks = readdirSync(STACKS_DIR)
  .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
  .filter((x): x is string => x !== undefined)
  .sort();
console.log(
  `preview-offline benchmark: median of ${repeat} interleaved run(s) each, one child process at a time`,
);
console.log(
  `  load average at start: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`,
);
console.log("  program = running stacks/index.ts under the mocks until every registration drained");
console.log("  child   = the whole child process (Node + tsx + Pulumi SDK start-up, stack file, program)");
console.log("  wall    = captureStack() as `tiers preview-offline` calls it (spawn, run, read the graph)\n");

const sizes = [2, 4, 8, 16];
const stackJobs: Job[] = stacks.map((stack) => ({ stack, runs: [] }));
const sizeJobs: Job[] = sizes.map((n) => ({
  stack: "ultimate",
  options: { overrides: { "test-tiers:environments": n } },
  runs: [],
}));
for (let i = 0; i < repeat; i++) for (const job of [...stackJobs, ...sizeJobs]) await runOnce(job);

const perStack = stackJobs.map((job) => {
  const f = summary(job);
  return [job.stack, String(f.resources), s(f.programMs), s(f.childMs), s(f.wallMs)];
});
console.log("Shipped stacks");
console.log(
  renderTable(
    [
      { header: "stack" },
      { header: "resources", align: "right" },
      { header: "program s", align: "right" },
      { header: "child s", align: "right" },
      { header: "wall s", align: "right" },
    ],
    perStack,
  ),
);
const ultimate = perStack.find((r) => r[0] === "ultimate");
if (ultimate)
  console.log(`\nultimate: ${ultimate[4]} s wall for the full graph (the issue's target: ≤ 10 s)`);

const scaling = sizeJobs.map((job, i) => ({ n: sizes[i]!, f: summary(job) }));

// Least-squares line through (environments, program time).
const xs = scaling.map((r) => r.n);
const ys = scaling.map((r) => r.f.programMs);
const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
const my = ys.reduce((a, b) => a + b, 0) / ys.length;
const slope =
  xs.reduce((a, x, i) => a + (x - mx) * (ys[i]! - my), 0) / xs.reduce((a, x) => a + (x - mx) ** 2, 0);
const intercept = my - slope * mx;
const ssRes = ys.reduce((a, y, i) => a + (y - (intercept + slope * xs[i]!)) ** 2, 0);
const ssTot = ys.reduce((a, y) => a + (y - my) ** 2, 0);
const r2 = ssTot === 0 ? 1 : 1 - ssRes / ssTot;

console.log("\nultimate with N environments (3 regions; environments placed round-robin)");
console.log(
  renderTable(
    [
      { header: "environments", align: "right" },
      { header: "resources", align: "right" },
      { header: "program s", align: "right" },
      { header: "ms per environment", align: "right" },
      { header: "child s", align: "right" },
      { header: "wall s", align: "right" },
      { header: "fit s", align: "right" },
    ],
    scaling.map(({ n, f }) => [
      String(n),
      String(f.resources),
      s(f.programMs),
      (f.programMs / n).toFixed(0),
      s(f.childMs),
      s(f.wallMs),
      s(intercept + slope * n),
    ]),
  ),
);
const perEnvResources = (scaling.at(-1)!.f.resources - scaling[0]!.f.resources) / (sizes.at(-1)! - sizes[0]!);
console.log(
  `\nprogram time ≈ ${s(intercept)} s + ${slope.toFixed(0)} ms × environments (least squares, R² = ${r2.toFixed(3)}); ` +
    `each environment adds ${perEnvResources} resources.`,
);
console.log(
  `load average at end: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`,
);
