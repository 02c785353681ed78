/**
 * `tiers local --runtime containers` with real podman: each environment runs as the pods the local
 * stack's Pulumi program registers (captured offline under the mock runtime), the runner drives
 * them over their API as it drives processes, and teardown leaves nothing behind. Without a
 * working podman these tests are skipped, and say so.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ReachedEnvironment, RunTarget, TargetContext } from "../../runners/cycle/target.js";
import { LocalContainerTarget } from "../../runners/local/containers/container-target.js";
import { containerOf, environmentsFromCapture } from "../../runners/local/containers/pods.js";
import { resolveLocalOptions } from "../../runners/local/options.js";
import { runLocal } from "../../runners/local/run-local.js";
import type { CycleReport } from "../../workloads/central/analysis/report-model.js";
import { startLocalRun } from "../helpers/local-run.js";
import { ensureImages, podmanProblem } from "../support/images.js";

const problem = podmanProblem();
if (problem) console.warn(`skipped: tiers local --runtime containers needs podman: ${problem}`);

const SHORT = { tier: "base", time_scale: "0.004", environments: "2" };

/** Every podman object whose name says test-tiers made it (tiers-…), by kind. */
async function tiersObjects(): Promise<{
  pods: string[];
  containers: string[];
  volumes: string[];
  secrets: string[];
  networks: string[];
}> {
  const list = async (args: string[]) =>
    (await execa("podman", args)).stdout
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean);
  return {
    pods: (await list(["pod", "ps", "--format", "{{.Name}}"])).filter((n) => n.startsWith("tiers-")),
    containers: (await list(["ps", "-a", "--format", "{{.Names}}|{{.PodName}}"])).filter((n) =>
      n.includes("tiers-"),
    ),
    volumes: await list(["volume", "ls", "--format", "{{.Name}}"]),
    secrets: (await list(["secret", "ls", "--format", "{{.Name}}"])).filter((n) => n.startsWith("tiers-")),
    networks: (await list(["network", "ls", "--format", "{{.Name}}"])).filter((n) => n.startsWith("tiers-")),
  };
}

interface Inspected {
  Name: string;
  Path: string;
  Args: string[];
  Config: { Env: string[]; User: string; Image: string };
  ImageName: string;
  Mounts: { Destination: string; RW: boolean }[];
  HostConfig: { ReadonlyRootfs: boolean; SecurityOpt?: string[] | null };
  EffectiveCaps?: string[] | null;
}

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "tiers-containers-"));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.skipIf(problem !== undefined)("tiers local --runtime containers (real podman)", () => {
  beforeAll(async () => {
    await ensureImages((l) => console.log(l));
  }, 1_800_000);

  it("runs two environments as the program's pods: bundles verify and import, every phase has figures, pods equal the capture, nothing remains", async () => {
    const before = await tiersObjects();
    const out = join(root, "e2e");
    const options = resolveLocalOptions({ out, db: join(root, "e2e.db"), runtime: "containers" }, SHORT, {
      ...process.env,
      TIERS_DB_URL: undefined,
    });
    const target = new LocalContainerTarget({ keep: false });
    const inspected = new Map<string, Inspected[]>();
    // The same target, looked at once its pods run (before the cycle starts).
    const looking: RunTarget = {
      name: target.name,
      async provision(context: TargetContext): Promise<readonly ReachedEnvironment[]> {
        const reached = await target.provision(context);
        for (const env of target.environments) {
          const ids = env.pods.flatMap((p) => p.containers.map((c) => c.id));
          inspected.set(
            env.id,
            JSON.parse((await execa("podman", ["inspect", ...ids])).stdout) as Inspected[],
          );
        }
        return reached;
      },
      teardown: (force, say) => target.teardown(force, say),
    };
    let text = "";
    const result = await runLocal(
      options,
      { out: new Writable({ write: (c, _e, cb) => ((text += String(c)), cb()) }), tty: false },
      { interrupt: new AbortController().signal, force: new AbortController().signal },
      looking,
    );
    expect(result.exitCode, text).toBe(0);
    expect(text).toMatch(/capturing the Pulumi program of stack local offline/);

    // Both bundles verified and imported; every phase has real figures.
    const report = JSON.parse(readFileSync(join(result.runDir, "report.json"), "utf8")) as CycleReport;
    expect(report.environments.map((e) => [e.environment_id, e.verdict])).toStrictEqual([
      ["env-1", "passed"],
      ["env-2", "passed"],
    ]);
    expect(report.phases.map((p) => `${p.environment_id}/${p.phase}/${p.status}`)).toStrictEqual([
      "env-1/idle/completed",
      "env-1/baseline/completed",
      "env-1/light/completed",
      "env-2/idle/completed",
      "env-2/baseline/completed",
      "env-2/light/completed",
    ]);
    for (const p of report.phases.filter((x) => x.phase !== "idle")) {
      expect(p.achieved_rps, `${p.environment_id}/${p.phase}`).toBeGreaterThan(0);
      expect(p.requests).toBeGreaterThan(0);
      expect(p.p99_ms).toBeGreaterThan(0);
    }
    // The SUT container's CPU and memory in every phase, read from its own /metrics (the
    // orchestrator's container cannot see its processes).
    for (const p of report.phases) {
      expect(p.cpu?.mean, `${p.environment_id}/${p.phase} cpu`).toBeGreaterThan(0);
      expect(p.memory?.mean, `${p.environment_id}/${p.phase} memory`).toBeGreaterThan(0);
    }
    for (const e of report.environments) {
      for (const phase of ["idle", "baseline", "light"])
        expect(
          report.statistics.filter(
            (s) => s.environment_id === e.environment_id && s.phase === phase && s.count > 0,
          ).length,
          `${e.environment_id}/${phase}`,
        ).toBeGreaterThan(0);
    }
    expect(text).toMatch(/^2 bundles imported into /m);
    // Over HTTPS, verified against the run's CA as the Service's DNS name (cert-manager's part).
    expect(text.match(/^env-\d: pods .* orchestrator https:\/\/[\d.]+:\d+$/gm)?.length, text).toBe(2);

    // Each pod's env, args, mounts and security context are what the program registered.
    const captured = environmentsFromCapture(target.graph!);
    expect(captured.map((e) => e.id).sort()).toStrictEqual(["env-1", "env-2"]);
    for (const env of captured) {
      const containers = inspected.get(env.id)!;
      expect(containers.length, env.id).toBe(3);
      for (const [name, deployment] of Object.entries(env.deployments)) {
        const want = containerOf(deployment) as {
          args?: string[];
          env?: { name: string; value?: string; valueFrom?: unknown }[];
          volumeMounts?: { mountPath: string; readOnly?: boolean }[];
          securityContext: {
            runAsUser: number;
            readOnlyRootFilesystem: boolean;
            capabilities: { drop: string[] };
          };
        };
        const got = containers.find((c) => c.Name.endsWith(`-${name}`));
        expect(got, `${env.id}/${name}`).toBeDefined();
        const where = `${env.id}/${name}`;
        const imageConfig = JSON.parse(
          (await execa("podman", ["image", "inspect", "--format", "{{json .Config}}", got!.ImageName]))
            .stdout,
        ) as { Entrypoint: string[]; Env: string[] };
        // args only: the image's entrypoint (tini) first, then exactly the registered args.
        expect([got!.Path, ...got!.Args], where).toStrictEqual([
          ...imageConfig.Entrypoint,
          ...(want.args ?? []),
        ]);
        expect(got!.Path, where).toBe("tini");
        // env: the registered variables with their values (Secrets resolved), besides the image's
        // own and podman's.
        const envMap = new Map(
          got!.Config.Env.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]),
        );
        for (const v of want.env ?? []) {
          if (v.value !== undefined) expect(envMap.get(v.name), `${where} ${v.name}`).toBe(v.value);
          else expect(envMap.get(v.name)?.length, `${where} ${v.name} (from a Secret)`).toBeGreaterThan(20);
        }
        const known = new Set([
          ...(want.env ?? []).map((v) => v.name),
          ...imageConfig.Env.map((e) => e.slice(0, e.indexOf("="))),
          "HOSTNAME",
          "container",
          "TERM",
          "HOME",
        ]);
        expect(
          [...envMap.keys()].filter((k) => !known.has(k)),
          where,
        ).toStrictEqual([]);
        // mounts: the registered mount paths, read-only where registered so.
        const podmanOwn = [
          "/etc/hosts",
          "/etc/hostname",
          "/etc/resolv.conf",
          "/run/.containerenv",
          "/dev/shm",
        ];
        const mounts = got!.Mounts.filter((m) => !podmanOwn.includes(m.Destination));
        expect(mounts.map((m) => m.Destination).sort(), where).toStrictEqual(
          (want.volumeMounts ?? []).map((m) => m.mountPath).sort(),
        );
        for (const m of want.volumeMounts ?? [])
          expect(mounts.find((x) => x.Destination === m.mountPath)!.RW, `${where} ${m.mountPath}`).toBe(
            !m.readOnly,
          );
        // securityContext: the uid, a read-only root, no capabilities, no privilege escalation.
        expect(got!.Config.User.split(":")[0], where).toBe(String(want.securityContext.runAsUser));
        expect(got!.HostConfig.ReadonlyRootfs, where).toBe(want.securityContext.readOnlyRootFilesystem);
        expect(want.securityContext.capabilities.drop).toStrictEqual(["ALL"]);
        expect(got!.EffectiveCaps ?? [], where).toStrictEqual([]);
        expect(got!.HostConfig.SecurityOpt ?? [], where).toContain("no-new-privileges");
      }
    }

    // Afterwards: no pod, container, volume, secret or network of the run.
    const after = await tiersObjects();
    expect(after.pods).toStrictEqual(before.pods);
    expect(after.containers).toStrictEqual(before.containers);
    expect(after.volumes.sort()).toStrictEqual(before.volumes.sort());
    expect(after.secrets).toStrictEqual(before.secrets);
    expect(after.networks).toStrictEqual(before.networks);
    expect(text).toMatch(/every pod, container, volume, secret and network of run [0-9a-f]{6} is gone/);
  }, 900_000);

  it("Ctrl-C during a containers run removes every pod, container, volume, secret and network", async () => {
    const before = await tiersObjects();
    const out = join(root, "sigint");
    const run = startLocalRun([
      "--runtime",
      "containers",
      "--tier",
      "base",
      "--time-scale",
      "0.004",
      "--environments",
      "2",
      "--out",
      out,
      "--db",
      join(root, "sigint.db"),
    ]);
    await run.waitFor(/env-1: cycle \S+ triggered/, 600_000);
    run.child.kill("SIGINT");
    const code = await run.exited;
    const output = run.output();
    expect(code, output).toBe(130);
    expect(output).toContain("SIGINT: stopping the run and tearing everything down");
    expect(output).toMatch(/every pod, container, volume, secret and network of run [0-9a-f]{6} is gone/);
    const after = await tiersObjects();
    expect(after.pods).toStrictEqual(before.pods);
    expect(after.containers).toStrictEqual(before.containers);
    expect(after.volumes.sort()).toStrictEqual(before.volumes.sort());
    expect(after.secrets).toStrictEqual(before.secrets);
    expect(after.networks).toStrictEqual(before.networks);
  }, 900_000);
});
