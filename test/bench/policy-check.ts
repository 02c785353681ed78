/**
 * Where the time of `tiers policy check` goes, per shipped stack: the capture (a child process
 * running the program under mocks) against applying the 23 policies to the captured graph, side by
 * side. Captures run once per stack; the check runs --repeat times in this process on the same
 * graph (the first check also reads the taggable AWS types from @pulumi/aws, shown apart).
 *
 *   npm run bench -- policy-check [--repeat 5]
 */
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { taggableAwsTypes } from "../../policies/lib/aws.js";
import { renderTable } from "../../runners/format/table.js";
import { captureStack } from "../../runners/infra/capture.js";
import { checkGraph } from "../../runners/policy/check.js";
import { shippedStacks } from "../../runners/policy/run.js";

const { values } = parseArgs({ options: { repeat: { type: "string", default: "5" } } });
const repeat = Math.max(1, Number(values.repeat));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number): string => x.toFixed(1);

const t0 = performance.now();
const taggable = taggableAwsTypes().size;
const scanMs = performance.now() - t0;

const rows: string[][] = [];
for (const stack of shippedStacks()) {
  const t = performance.now();
  const graph = await captureStack(stack);
  const captureMs = performance.now() - t;
  if (!graph.ok) throw new Error(`stack ${stack} failed under the mocks: ${graph.error?.message ?? "?"}`);
  const checks: number[] = [];
  let violations = 0;
  for (let i = 0; i < repeat; i++) {
    const c = performance.now();
    violations = (await checkGraph(graph)).violations.length;
    checks.push(performance.now() - c);
  }
  const check = median(checks);
  rows.push([
    stack,
    String(graph.resources.length),
    String(violations),
    ms(captureMs),
    ms(check),
    ms((check * 1000) / graph.resources.length),
    `${((check / (captureMs + check)) * 100).toFixed(1)} %`,
  ]);
}

process.stdout.write(
  [
    `policy check: capture vs check per shipped stack (check = median of ${repeat}); load average ${loadavg()[0]!.toFixed(2)}`,
    `reading the taggable AWS types once: ${ms(scanMs)} ms (${taggable} types)`,
    "",
    renderTable(
      [
        { header: "stack" },
        { header: "resources", align: "right" },
        { header: "violations", align: "right" },
        { header: "capture ms", align: "right" },
        { header: "check ms", align: "right" },
        { header: "µs/resource", align: "right" },
        { header: "check share", align: "right" },
      ],
      rows,
    ),
    "",
  ].join("\n"),
);
