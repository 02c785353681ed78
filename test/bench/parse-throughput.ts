/**
 * Parsing and validating recorded tool outputs: 10,000 evaluations (parse → contract output check
 * → rules → a Result checked against its schema), cycling through every recorded real output in
 * test/fixtures/tools (not the hand-made hostile ones). Target ≥ 5,000 per second. Prints figures.
 *   npm run bench -- parse-throughput [count]
 */
import { randomUUID } from "node:crypto";
import { loadavg } from "node:os";
import { loadCatalog } from "../../tiers/catalog.js";
import { compileContract, validateParameters } from "../../tiers/contracts/compile.js";
import type { ToolName } from "../../tiers/schema/names.js";
import { evaluateOutput } from "../../workloads/orchestrator/adapters/evaluate.js";
import { createAdapter } from "../../workloads/orchestrator/adapters/registry.js";
import { assembleResult } from "../../workloads/orchestrator/adapters/result.js";
import type { Result } from "../../workloads/shared/result.js";
import { caseMeta, loadCase } from "../workloads/support/fixtures.js";

const count = Number(process.argv[3] ?? 10_000);
const catalog = loadCatalog();
const TOOLS: ToolName[] = ["iperf3", "fio", "stress-ng", "http-load", "elbencho"];

const cases = TOOLS.flatMap((tool) => {
  const contractName = catalog.tools[tool].default_contract!;
  const contract = compileContract(contractName, catalog.contracts[contractName]!);
  return Object.entries(caseMeta(tool))
    .filter(([, meta]) => !meta.note?.startsWith("hostile"))
    .map(([name, meta]) => ({
      tool,
      name,
      contractName,
      contract,
      adapter: createAdapter(tool),
      params: validateParameters(contract, meta.operation ? { operation: meta.operation } : {}).value!,
      raw: loadCase(tool, name),
    }));
});

const startedAt = new Date();
function once(c: (typeof cases)[number]): Result {
  const e = evaluateOutput(c.adapter, c.contract, c.contract.rules, c.params, c.raw, {
    endedBy: "exit",
    exitCode: c.raw.exitCode,
    signal: null,
    timeoutMs: 60_000,
  });
  return assembleResult({
    resultId: randomUUID(),
    test: { id: `heavy/${c.name}`, name: c.name, tool: c.tool, contract: c.contractName },
    ctx: { cycleId: "bench", environment: "bench", phase: "heavy" },
    outcome: { ...e, version: null, parameters: c.params, raw: {}, exitCode: c.raw.exitCode },
    startedAt,
    durationMs: 0,
  });
}

for (let i = 0; i < 500; i++) once(cases[i % cases.length]!); // warm-up, not counted
const perTool = new Map<string, { n: number; ms: number }>();
const statuses = new Map<string, number>();
const t0 = performance.now();
for (let i = 0; i < count; i++) {
  const c = cases[i % cases.length]!;
  const s = performance.now();
  const r = once(c);
  const entry = perTool.get(c.tool) ?? { n: 0, ms: 0 };
  entry.n += 1;
  entry.ms += performance.now() - s;
  perTool.set(c.tool, entry);
  statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
}
const totalMs = performance.now() - t0;
const rate = (count / totalMs) * 1000;
console.log(
  `parse + validate: ${count} recorded outputs (${cases.length} distinct cases) in ${totalMs.toFixed(0)} ms, load average ${loadavg()[0]!.toFixed(2)}`,
);
console.log(`\ntool         outputs   per second`);
for (const [tool, { n, ms }] of perTool)
  console.log(`${tool.padEnd(12)} ${String(n).padStart(7)}   ${((n / ms) * 1000).toFixed(0).padStart(10)}`);
console.log(`${"all".padEnd(12)} ${String(count).padStart(7)}   ${rate.toFixed(0).padStart(10)}`);
console.log(`\nverdicts: ${[...statuses].map(([s, n]) => `${s} ${n}`).join(", ")}`);
console.log(`target: ≥ 5,000 per second → ${rate >= 5000 ? "met" : "NOT met"} (${rate.toFixed(0)}/s)`);
