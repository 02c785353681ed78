import { randomBytes } from "node:crypto";
import { chown, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import { TLS_MOUNT } from "../../components/environment/workloads.js";
import { createRunCa } from "../local/run-ca.js";
import type { Engine } from "./engine.js";
import { IMAGE_SPECS, imageRef, projectVersion, DEFAULT_REGISTRY, type ImageName } from "./images.js";

export interface CheckResult {
  readonly image: string;
  readonly check: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** The uid every workload runs as (components/environment/pod-security.ts WORKLOAD_UID). */
export const IMAGE_UID = 10001;

/**
 * The orphan scenario, run by PID 1's child: it starts `sh`, which starts `sleep` (the grandchild)
 * and waits; the `sh` is killed, so `sleep` is orphaned and re-parented to PID 1; then `sleep` is
 * killed. An init that reaps (tini) leaves no trace of it; one that does not (node as PID 1) keeps
 * a zombie. Prints `{"grandchild":pid,"ppid":n,"state":"gone"|"Z"|…}`.
 */
export const ORPHAN_SCENARIO = `
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const stat = (pid) => { try { const s = fs.readFileSync("/proc/" + pid + "/stat", "utf8"); const f = s.slice(s.lastIndexOf(")") + 2).split(" "); return { state: f[0], ppid: Number(f[1]) }; } catch { return { state: "gone", ppid: 0 }; } };
const parent = spawn("sh", ["-c", "sleep 60 & echo $!; wait"], { stdio: ["ignore", "pipe", "inherit"] });
parent.stdout.once("data", (d) => {
  const gc = Number(String(d).trim());
  parent.kill("SIGKILL");
  parent.once("exit", () => setTimeout(() => {
    const ppid = stat(gc).ppid;
    process.kill(gc, "SIGKILL");
    setTimeout(() => { console.log(JSON.stringify({ grandchild: gc, ppid, state: stat(gc).state })); process.exit(0); }, 700);
  }, 300));
});`;

/** Runs the orphan scenario with `init` as PID 1 (`["tini","--"]` or `[]` for node itself). */
export async function orphanScenario(
  engine: Engine,
  image: string,
  init: readonly string[],
): Promise<{ grandchild: number; ppid: number; state: string }> {
  const entrypoint = JSON.stringify([...init, "node"]);
  const r = await execa(
    engine,
    [
      "run",
      "--rm",
      "--read-only",
      "--cap-drop",
      "ALL",
      "--entrypoint",
      entrypoint,
      image,
      "-e",
      ORPHAN_SCENARIO,
    ],
    { reject: false, timeout: 60_000 },
  );
  const line = r.stdout.trim().split("\n").at(-1) ?? "";
  try {
    return JSON.parse(line) as { grandchild: number; ppid: number; state: string };
  } catch {
    throw new Error(
      `the orphan scenario in ${image} printed no result (exit ${String(r.exitCode)}): ${r.stderr.trim()}`,
    );
  }
}

/** How each image runs for its checks: what it needs beside a read-only root. */
async function runSpec(
  name: ImageName,
  scratch: string,
): Promise<{ env: string[]; volumes: string[]; args: string[] }> {
  switch (name) {
    case "orchestrator": {
      // As in a pod: an environment id, a token, a volume on /data (its local SUT starts inside),
      // and a server certificate where cert-manager's Secret is mounted: the API serves only
      // HTTPS unless told --insecure-http, and the healthcheck asks over HTTPS.
      const ca = await createRunCa("tiers images check");
      const issued = await ca.issueServer("orchestrator image-check", ["localhost", "127.0.0.1"]);
      const dir = join(scratch, "tls");
      await mkdir(dir, { mode: 0o755 });
      await writeFile(join(dir, "tls.crt"), issued.cert, { mode: 0o444 });
      await writeFile(join(dir, "tls.key"), issued.key, { mode: 0o400 });
      await chown(join(dir, "tls.key"), IMAGE_UID, IMAGE_UID);
      return {
        env: [
          "TIERS_ENVIRONMENT=image-check",
          `TIERS_API_TOKEN=${randomBytes(16).toString("hex")}`,
          `TIERS_TLS_CERT_FILE=${TLS_MOUNT}/tls.crt`,
          `TIERS_TLS_KEY_FILE=${TLS_MOUNT}/tls.key`,
        ],
        volumes: ["/data", `${dir}:${TLS_MOUNT}:ro`],
        args: [],
      };
    }
    case "sut":
      return { env: [], volumes: [], args: [] };
    case "base":
      // The base's CMD prints Node's version and exits: keep a process running to look at.
      return { env: [], volumes: [], args: ["node", "-e", "setInterval(() => {}, 1e9)"] };
  }
}

async function inspect(engine: Engine, what: string, format: string): Promise<string> {
  const r = await execa(engine, ["inspect", "--format", format, what], { reject: false });
  return r.exitCode === 0 ? r.stdout.trim() : "";
}

/** Waits for the container's healthcheck to pass (podman runs it on demand; docker on its schedule). */
async function healthy(engine: Engine, container: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    if (engine === "podman") {
      const r = await execa("podman", ["healthcheck", "run", container], { reject: false });
      if (r.exitCode === 0) return "healthy";
      last = (r.stdout || r.stderr).trim();
    } else {
      last = await inspect(engine, container, "{{.State.Health.Status}}");
      if (last === "healthy") return last;
    }
    if ((await inspect(engine, container, "{{.State.Running}}")) !== "true") return `exited (${last})`;
    await sleep(1000);
  }
  return `not healthy after ${timeoutMs / 1000} s (${last})`;
}

/**
 * Each image's checks, on a container started as the pods start it (read-only root, every
 * capability dropped, /tmp a tmpfs): runs as uid 10001, its root filesystem refuses writes, PID 1
 * has no capabilities, tini is PID 1 and reaps an orphaned grandchild, the healthcheck passes.
 * Every container it starts is removed (with its anonymous volumes) before it returns.
 */
export async function checkImages(options: {
  readonly engine: Engine;
  readonly tag?: string;
  readonly registry?: string;
  readonly only?: readonly ImageName[];
  readonly say?: (line: string) => void;
}): Promise<CheckResult[]> {
  const { engine } = options;
  const tag = options.tag ?? projectVersion();
  const results: CheckResult[] = [];
  const record = (image: string, check: string, ok: boolean, detail: string) => {
    results.push({ image, check, ok, detail });
    options.say?.(`${ok ? "ok  " : "FAIL"} ${image}: ${check} (${detail})`);
  };
  for (const spec of IMAGE_SPECS) {
    if (options.only && !options.only.includes(spec.name)) continue;
    const image = imageRef(spec.name, tag, options.registry ?? DEFAULT_REGISTRY);
    if ((await inspect(engine, image, "{{.Id}}")) === "") {
      record(image, "exists", false, `not built: run tiers images build --engine ${engine}`);
      continue;
    }
    const entry = JSON.parse((await inspect(engine, image, "{{json .Config.Entrypoint}}")) || "null") as
      string[] | null;
    record(image, "ENTRYPOINT starts with tini", entry?.[0] === "tini", JSON.stringify(entry));

    const name = `tiers-check-${spec.name}-${randomBytes(4).toString("hex")}`;
    const scratch = await mkdtemp(join(tmpdir(), "tiers-image-check-"));
    const { env, volumes, args } = await runSpec(spec.name, scratch);
    const run = await execa(
      engine,
      [
        "run",
        "-d",
        "--name",
        name,
        "--read-only",
        "--cap-drop",
        "ALL",
        "--security-opt",
        "no-new-privileges",
        "--tmpfs",
        "/tmp",
        ...env.flatMap((e) => ["-e", e]),
        ...volumes.flatMap((v) => ["-v", v]),
        image,
        ...args,
      ],
      { reject: false },
    );
    try {
      if (run.exitCode !== 0) {
        record(image, "starts", false, run.stderr.trim());
        continue;
      }
      await sleep(500);
      const exec = async (...cmd: string[]) =>
        execa(engine, ["exec", name, ...cmd], { reject: false }).then((r) => ({
          code: r.exitCode ?? -1,
          out: r.stdout.trim(),
          err: r.stderr.trim(),
        }));
      const status = await exec("cat", "/proc/1/status");
      const field = (k: string) => new RegExp(`^${k}:\\s*(.*)$`, "m").exec(status.out)?.[1]?.trim() ?? "";
      const uid = field("Uid").split(/\s+/);
      record(
        image,
        `runs as uid ${IMAGE_UID}`,
        uid.length === 4 && uid.every((u) => u === String(IMAGE_UID)),
        `Uid: ${field("Uid")}`,
      );
      record(
        image,
        "no capabilities",
        ["CapEff", "CapPrm", "CapBnd"].every((k) => /^0+$/.test(field(k))),
        `CapEff ${field("CapEff")}, CapBnd ${field("CapBnd")}`,
      );
      const pid1 = await exec("cat", "/proc/1/cmdline");
      const argv = pid1.out.split("\0").filter(Boolean);
      record(image, "tini is PID 1", /(^|\/)tini$/.test(argv[0] ?? ""), argv.join(" "));
      const write = await exec("touch", "/probe-read-only");
      record(
        image,
        "read-only root filesystem",
        /Read-only file system/.test(write.err),
        write.code !== 0 ? write.err : "a write to / succeeded",
      );
      if (spec.name !== "base") {
        const health = await healthy(engine, name, 60_000);
        record(image, "healthcheck reports healthy", health === "healthy", health);
      }
    } finally {
      await execa(engine, ["rm", "-f", "-v", name], { reject: false });
      await rm(scratch, { recursive: true, force: true });
    }
    const orphan = await orphanScenario(engine, image, ["tini", "--"]);
    record(
      image,
      "tini reaps an orphaned grandchild",
      orphan.ppid === 1 && orphan.state === "gone",
      `grandchild re-parented to pid ${orphan.ppid}, afterwards ${orphan.state === "gone" ? "gone" : `state ${orphan.state}`}`,
    );
  }
  return results;
}
