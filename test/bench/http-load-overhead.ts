/**
 * http-load through the adapter vs autocannon run directly: same SUT, same connections, same
 * duration, unthrottled, in one run, alternating (ABBA …) so drift hits both alike. Target: the adapter
 * reaches ≥ 95 % of the direct requests per second. Prints figures; asserts nothing.
 *   npm run bench -- http-load-overhead [seconds] [connections] [rounds]
 */
import autocannon from "autocannon";
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { loadCatalog } from "../../tiers/catalog.js";
import { AUTOCANNON_VERSION } from "../../workloads/orchestrator/adapters/http-load-run.js";
import { runTest } from "../../workloads/orchestrator/adapters/run-test.js";
import { SutSupervisor } from "../../workloads/sut/supervisor.js";

const seconds = Number(process.argv[3] ?? 5);
const connections = Number(process.argv[4] ?? 16);
const rounds = Number(process.argv[5] ?? 6);

/** One load run: requests per second, and this process's CPU time per response (the generator's cost). */
interface Run {
  readonly rps: number;
  readonly cpuUsPerResponse: number;
}

function direct(url: string): Promise<Run> {
  const cpu = process.cpuUsage();
  return new Promise((resolve, reject) => {
    autocannon({ url, connections, duration: seconds }, (error: unknown, result) => {
      if (error) return reject(error instanceof Error ? error : new Error("autocannon failed"));
      const used = process.cpuUsage(cpu);
      resolve({
        rps: result.requests.total / result.duration,
        cpuUsPerResponse: (used.user + used.system) / result.requests.total,
      });
    });
  });
}

async function throughAdapter(url: string, scratch: string): Promise<Run> {
  const cpu = process.cpuUsage();
  const r = await runTest(
    {
      id: "bench/http-load",
      name: "http-load",
      tool: "http-load",
      contract: "HttpLoadContract",
      parameters: { url, connections, duration: seconds, rps: 0 },
      rules: {},
      timeout_ms: seconds * 1000 + 30_000,
    },
    loadCatalog().contracts,
    {
      cycleId: "bench",
      environment: "bench",
      phase: "heavy",
      rawDir: join(scratch, "raw"),
      scratchDir: scratch,
      onLoadSecond: () => undefined,
    },
  );
  const used = process.cpuUsage(cpu);
  if (r.status !== "passed") throw new Error(`adapter run ${r.status}: ${r.reason}`);
  return {
    rps: r.metrics.rps!.value as number,
    cpuUsPerResponse: (used.user + used.system) / (r.metrics.requests!.value as number),
  };
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const median = (xs: number[]): number => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)]!;
const pad = (v: number, n: number, digits = 0): string => v.toFixed(digits).padStart(n);
const scratch = mkdtempSync(join(tmpdir(), "bench-http-"));
const sut = new SutSupervisor();
await sut.start();
try {
  const url = `${sut.url}/work`;
  console.log(
    `http-load overhead: ${connections} connections, ${seconds} s per run, ${rounds} rounds, SUT ${url}`,
  );
  console.log(
    `node ${process.version}, autocannon ${AUTOCANNON_VERSION}, ${availableParallelism()} CPUs, load average ${loadavg()[0]!.toFixed(2)}\n`,
  );
  await direct(url); // warm the SUT's JIT; not counted
  const d: Run[] = [];
  const a: Run[] = [];
  console.log("round   direct req/s   adapter req/s    ratio   │   CPU µs/response: direct   adapter");
  for (let i = 1; i <= rounds; i++) {
    // Alternate the order so neither side always runs on a warmer SUT.
    if (i % 2 === 1) {
      d.push(await direct(url));
      a.push(await throughAdapter(url, scratch));
    } else {
      a.push(await throughAdapter(url, scratch));
      d.push(await direct(url));
    }
    const [x, y] = [d.at(-1)!, a.at(-1)!];
    console.log(
      `${String(i).padStart(5)}   ${pad(x.rps, 12)}   ${pad(y.rps, 13)}   ${pad((y.rps / x.rps) * 100, 5, 1)} %   │   ${pad(x.cpuUsPerResponse, 23, 1)}   ${pad(y.cpuUsPerResponse, 7, 1)}`,
    );
  }
  const rpsRatio = (mean(a.map((r) => r.rps)) / mean(d.map((r) => r.rps))) * 100;
  const medianRatio = median(a.map((r, i) => r.rps / d[i]!.rps)) * 100;
  const cpuRatio =
    (median(d.map((r) => r.cpuUsPerResponse)) / median(a.map((r) => r.cpuUsPerResponse))) * 100;
  console.log(
    `${"mean".padStart(5)}   ${pad(mean(d.map((r) => r.rps)), 12)}   ${pad(mean(a.map((r) => r.rps)), 13)}   ${pad(rpsRatio, 5, 1)} %   │   ${pad(median(d.map((r) => r.cpuUsPerResponse)), 23, 1)}   ${pad(median(a.map((r) => r.cpuUsPerResponse)), 7, 1)}  (medians)`,
  );
  console.log(
    `\nload average now ${loadavg()[0]!.toFixed(2)}: other work on the machine moves the req/s columns;`,
  );
  console.log("the generator's CPU per response is the steadier measure of what the adapter adds.");
  console.log(
    `adapter req/s vs direct: ${rpsRatio.toFixed(1)} % of the means, ${medianRatio.toFixed(1)} % median of the rounds`,
  );
  console.log(`direct CPU per response / adapter CPU per response: ${cpuRatio.toFixed(1)} %`);
  console.log(`target: adapter ≥ 95 % of direct → ${rpsRatio >= 95 ? "met" : "NOT met"} by req/s (means)`);
} finally {
  await sut.stop();
  rmSync(scratch, { recursive: true, force: true });
}
