/**
 * Requests per second per worker core: one `orchestrator load-worker` process against the sample
 * SUT and against a static endpoint, side by side with `wrk` (one thread) on the same target, with
 * the same connections and duration, in one run. A generator's cores are its own CPU time (user +
 * system, from /usr/bin/time) over the run, so the figure holds even when the target is the
 * bottleneck; the worker's start-up CPU (tsx loading the sources) is measured on its own and
 * subtracted. Target: the worker reaches ≥ 0.5 × wrk per core. From the static figure it prints the
 * worker pods and nodes seed 001's extreme phase (50k RPS) and the ultimate tier (100k RPS) need.
 * Prints figures; asserts nothing.
 *   npm run bench -- load-workers [seconds] [connections]
 */
import { execa } from "execa";
import { availableParallelism, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import {
  LOAD_WORKER_CAPACITY_RPS,
  LOAD_WORKER_RESOURCES,
  loadJobParallelism,
} from "../../tiers/infra/load-job.js";
import { instanceTypeByName } from "../../tiers/infra/instance-types.js";
import { SutSupervisor } from "../../workloads/sut/supervisor.js";

const seconds = Number(process.argv[2] ?? 5);
const connections = Number(process.argv[3] ?? 16);
const BIN = fileURLToPath(new URL("../../bin/orchestrator.js", import.meta.url));

interface Measured {
  readonly requests: number;
  readonly rps: number;
  readonly cpuS: number;
}

/** Runs a command under /usr/bin/time; returns its stdout and its CPU seconds. */
async function timed(file: string, args: string[]): Promise<{ stdout: string; cpuS: number }> {
  const r = await execa("/usr/bin/time", ["-f", "TIME %U %S", file, ...args], { reject: false });
  const m = /TIME ([\d.]+) ([\d.]+)/.exec(r.stderr);
  if (!m) throw new Error(`${file}: no CPU figures (${r.stderr.slice(-200)})`);
  return { stdout: r.stdout, cpuS: Number(m[1]) + Number(m[2]) };
}

async function worker(url: string, durationS: number): Promise<Measured> {
  const r = await timed(process.execPath, [
    BIN,
    "load-worker",
    "--url",
    url,
    "--connections",
    String(connections),
    "--rps",
    "0",
    "--duration",
    String(durationS),
  ]);
  const report = r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { kind: string; requests?: number; duration_s?: number })
    .find((l) => l.kind === "report");
  if (!report) throw new Error("the worker wrote no report");
  return { requests: report.requests!, rps: report.requests! / report.duration_s!, cpuS: r.cpuS };
}

async function wrk(url: string): Promise<Measured> {
  const r = await timed("wrk", ["-t1", `-c${connections}`, `-d${seconds}s`, url]);
  const requests = Number(/(\d+) requests in/.exec(r.stdout)?.[1]);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(r.stdout)?.[1]);
  return { requests, rps, cpuS: r.cpuS };
}

/** A static endpoint in its own process: a fixed small body, nothing else. */
async function staticEndpoint() {
  const child = execa(
    process.execPath,
    [
      "-e",
      `const s=require("http").createServer((q,r)=>r.end("ok")).listen(0,"127.0.0.1",()=>console.log(s.address().port))`,
    ],
    { reject: false, buffer: false },
  );
  const port = await new Promise<number>((resolve) =>
    child.stdout.once("data", (d: Buffer) => resolve(Number(d.toString().trim()))),
  );
  return { url: `http://127.0.0.1:${port}/`, stop: () => child.kill("SIGTERM") };
}

const sut = new SutSupervisor({ host: "127.0.0.1" });
await sut.start();
const stat = await staticEndpoint();
try {
  // The worker's start-up cost: a run too short to send much, whose CPU is nearly all start-up.
  const startup = await worker(stat.url, 0.1);
  const rows: { target: string; generator: string; m: Measured; perCore: number }[] = [];
  for (const [target, url] of [
    ["static endpoint", stat.url],
    ["sample SUT /work", `${sut.url}/work`],
  ] as const) {
    const w = await worker(url, seconds);
    const k = await wrk(url);
    const workerCpu = Math.max(0.01, w.cpuS - startup.cpuS);
    rows.push({ target, generator: "load-worker (autocannon)", m: w, perCore: w.requests / workerCpu });
    rows.push({ target, generator: "wrk -t1", m: k, perCore: k.requests / Math.max(0.01, k.cpuS) });
  }
  process.stdout.write(
    `load-workers: ${seconds} s per run, ${connections} connections, unthrottled; ${availableParallelism()} cores, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}; worker start-up ${startup.cpuS.toFixed(2)} CPU s (subtracted)\n\n`,
  );
  process.stdout.write("target              generator                  rps      CPU s   rps per core\n");
  for (const r of rows)
    process.stdout.write(
      `${r.target.padEnd(20)}${r.generator.padEnd(27)}${r.m.rps.toFixed(0).padStart(7)}  ${r.m.cpuS.toFixed(2).padStart(7)}  ${r.perCore.toFixed(0).padStart(12)}\n`,
    );
  for (const target of ["static endpoint", "sample SUT /work"]) {
    const [w, k] = rows.filter((r) => r.target === target);
    const ratio = w!.perCore / k!.perCore;
    process.stdout.write(
      `${target}: worker/wrk per core = ${ratio.toFixed(2)} (target ≥ 0.5: ${ratio >= 0.5 ? "met" : "NOT met"})\n`,
    );
  }
  // Capacity of one worker pod (1 CPU limit): the static endpoint's per-core figure.
  const perPod = (rows[0]!.perCore * LOAD_WORKER_RESOURCES.limits.cpu_millis) / 1000;
  const node = instanceTypeByName("m6i.4xlarge");
  // What a node can hold: its vCPUs less one for the kubelet, system pods and daemonsets.
  const podsPerNode = Math.floor(
    ((node?.vcpu ?? 16) - 1) * (1000 / LOAD_WORKER_RESOURCES.requests.cpu_millis),
  );
  process.stdout.write(
    `\none worker pod (1 CPU): ${perPod.toFixed(0)} rps; a ${node?.name ?? "16-vCPU"} node holds ${podsPerNode} worker pods\n`,
  );
  for (const [what, rps] of [
    ["seed 001 extreme phase", 50_000],
    ["ultimate tier", 100_000],
  ] as const) {
    const pods = Math.ceil(rps / perPod);
    // What the orchestrator plans with (TIERS_LOAD_WORKER_CAPACITY_RPS's default), beside it.
    const planned = loadJobParallelism(rps, LOAD_WORKER_CAPACITY_RPS, Number.MAX_SAFE_INTEGER).parallelism;
    process.stdout.write(
      `${what} (${rps} rps): ${pods} worker pods by the measured capacity, ${Math.ceil(pods / podsPerNode)} nodes of ${node?.name ?? "16 vCPU"}; ` +
        `${planned} pods (${Math.ceil(planned / podsPerNode)} nodes) as planned at ${LOAD_WORKER_CAPACITY_RPS} rps a pod\n`,
    );
  }
} finally {
  stat.stop();
  await sut.stop();
}
