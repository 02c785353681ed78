/**
 * Container images (issue 18): build time per image cold (no cache: `--no-cache`-equivalent by a
 * fresh tag after `podman image prune` of the build cache is not safe on a shared machine, so cold
 * = a build with `--no-cache`) and warm (everything cached), each image's size and its own layers'
 * size (the thin images' target < 20 MB), then the wall time of one cycle in containers against the
 * process target on the same plan, in one run (target ≤ 1.10×).
 *
 *   npm run bench -- images [--base IMAGE] [--tier base] [--time-scale 0.004] [--skip-cold]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { parseArgs } from "node:util";
import { execa } from "execa";
import { renderTable } from "../../runners/format/table.js";
import { IMAGE_SPECS, imageRef, projectVersion, REPO_ROOT } from "../../runners/images/images.js";
import { resolveLocalOptions } from "../../runners/local/options.js";
import { runLocal, type LocalRunResult } from "../../runners/local/run-local.js";

const { values } = parseArgs({
  options: {
    base: { type: "string", default: "localhost/test-tiers/node-stand-in:20" },
    tier: { type: "string", default: "base" },
    "time-scale": { type: "string", default: "0.004" },
    environments: { type: "string", default: "2" },
    "skip-cold": { type: "boolean", default: false },
  },
});
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(" ");
console.log(`load average at start: ${load()}`);
const s = (ms: number) => (ms / 1000).toFixed(1);
const mb = (b: number) => (b / 1e6).toFixed(1);
const tag = "bench";

async function build(name: (typeof IMAGE_SPECS)[number], cold: boolean): Promise<number> {
  const from = name.fromArg === "BASE_IMAGE" ? imageRef("base", tag) : values.base;
  const args = [
    "build",
    "--network",
    "host",
    "-f",
    join(REPO_ROOT, name.dockerfile),
    "-t",
    imageRef(name.name, tag),
  ];
  args.push("--build-arg", `${name.fromArg}=${from}`);
  if (process.env.NODE_EXTRA_CA_CERTS) args.push("--secret", `id=ca,src=${process.env.NODE_EXTRA_CA_CERTS}`);
  if (cold) args.push("--no-cache");
  const t0 = Date.now();
  await execa("podman", [...args, REPO_ROOT]);
  return Date.now() - t0;
}

async function layerSizes(ref: string): Promise<{ total: number; own: number }> {
  const history = JSON.parse((await execa("podman", ["history", "--format", "json", ref])).stdout) as {
    size: number;
    createdBy?: string;
    comment?: string;
  }[];
  const total = Number((await execa("podman", ["image", "inspect", "--format", "{{.Size}}", ref])).stdout);
  const base = imageRef("base", tag);
  const baseHistory =
    ref === base
      ? []
      : (JSON.parse((await execa("podman", ["history", "--format", "json", base])).stdout) as unknown[]);
  // history is newest first; the image's own entries are those above the base's.
  const own = history.slice(0, history.length - baseHistory.length).reduce((a, h) => a + (h.size ?? 0), 0);
  return { total, own: ref === base ? total : own };
}

const rows: string[][] = [];
for (const spec of IMAGE_SPECS) {
  const cold = values["skip-cold"] ? undefined : await build(spec, true);
  const warm = await build(spec, false);
  const { total, own } = await layerSizes(imageRef(spec.name, tag));
  rows.push([
    spec.name,
    cold === undefined ? "skipped" : `${s(cold)} s`,
    `${s(warm)} s`,
    `${mb(total)} MB`,
    spec.name === "base" ? "(all)" : `${mb(own)} MB`,
    spec.name === "base" ? "" : "< 20 MB own layers",
  ]);
}
console.log(
  renderTable(
    ["image", "cold build", "warm build", "size", "own layers", "target"].map((header, i) => ({
      header,
      ...(i > 0 && i < 5 ? { align: "right" as const } : {}),
    })),
    rows,
  ),
);
await execa("podman", ["rmi", "-f", ...IMAGE_SPECS.map((x) => imageRef(x.name, tag))], { reject: false });

// The same plan on both runtimes, one after the other, in this run.
const dir = mkdtempSync(join(tmpdir(), "bench-images-"));
const never = new AbortController().signal;
const quiet = new Writable({ write: (_c, _e, cb) => cb() });
const results: [string, LocalRunResult][] = [];
try {
  for (const runtime of ["processes", "containers"] as const) {
    console.log(
      `running ${values.tier} × ${values.environments} environments on ${runtime} (images ${projectVersion()})…`,
    );
    const options = resolveLocalOptions(
      { out: join(dir, runtime), db: join(dir, `${runtime}.db`), runtime },
      { tier: values.tier, environments: values.environments, time_scale: values["time-scale"] },
    );
    const r = await runLocal(options, { out: quiet, tty: false }, { interrupt: never, force: never });
    if (r.exitCode !== 0) console.log(`  exit ${r.exitCode}: ${[...r.problems.values()].join("; ")}`);
    results.push([runtime, r]);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const parts = ["start", "cycles", "retrieve", "teardown", "central", "total"] as const;
console.log(
  renderTable(
    [{ header: "part" }, ...results.map(([n]) => ({ header: n, align: "right" as const }))],
    parts.map((p) => [p, ...results.map(([, r]) => `${s(r.timings[p])} s`)]),
  ),
);
const [proc, cont] = results.map(([, r]) => r.timings.total);
const cyc = results.map(([, r]) => r.timings.cycles);
console.log(
  `containers / processes: total ${(cont! / proc!).toFixed(3)}×, cycles only ${(cyc[1]! / cyc[0]!).toFixed(3)}× (target ≤ 1.10×)`,
);
console.log(`load average at end: ${load()}`);
