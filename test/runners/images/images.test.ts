/**
 * The images, built and run for real with podman (rootful, configured by .ci/podman-setup; the
 * base FROM the Node stand-in that .ci/node-stand-in makes where no registry is reachable).
 * Without a working podman these tests are skipped, and say so.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildImages } from "../../../runners/images/build.js";
import { orphanScenario } from "../../../runners/images/check.js";
import { imageRef, INPUTS_LABEL, inputsHash, REPO_ROOT } from "../../../runners/images/images.js";
import { runTiers } from "../../helpers/cli.js";
import { ensureImages, podmanProblem, STAND_IN } from "../../support/images.js";

const problem = podmanProblem();
if (problem) console.warn(`skipped: the container image tests need podman: ${problem}`);

describe.skipIf(problem !== undefined)("container images (real podman)", () => {
  beforeAll(async () => {
    await ensureImages((l) => console.log(l));
  }, 1_800_000);

  it("every image builds from a clean checkout (tracked files only, no node_modules)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tiers-checkout-"));
    try {
      const files = execFileSync("git", ["ls-files", "-co", "--exclude-standard", "-z"], {
        cwd: REPO_ROOT,
        encoding: "utf8",
      })
        .split("\0")
        .filter(Boolean);
      for (const f of files) {
        mkdirSync(join(dir, dirname(f)), { recursive: true });
        try {
          cpSync(join(REPO_ROOT, f), join(dir, f));
        } catch {
          // deleted in the work tree
        }
      }
      execFileSync("git", ["init", "-q"], { cwd: dir });
      execFileSync("git", ["add", "-A"], { cwd: dir });
      const lines: string[] = [];
      const built = await buildImages({
        engine: "podman",
        nodeImage: process.env.TIERS_NODE_IMAGE ?? STAND_IN,
        contextDir: dir,
        tag: "clean-checkout",
        say: (l) => lines.push(l),
      });
      expect(built.map((b) => b.name)).toStrictEqual(["base", "orchestrator", "sut"]);
      expect(lines[0]).toMatch(
        /^building ghcr\.io\/test-tiers\/base:clean-checkout \(workloads\/base\/Dockerfile/,
      );
      // Thin images start FROM the base just built; the labels say what they were built from.
      const labels = JSON.parse(
        (await execa("podman", ["image", "inspect", "--format", "{{json .Labels}}", built[1]!.ref])).stdout,
      ) as Record<string, string>;
      expect(labels["org.opencontainers.image.version"]).toBe("clean-checkout");
      expect(labels["org.opencontainers.image.revision"]).toMatch(/^[0-9a-f]{40}$/);
      expect(labels["org.opencontainers.image.source"]).toBe("https://github.com/test-tiers/test-tiers");
      expect(labels[INPUTS_LABEL]).toBe(inputsHash(dir));
      const history = (await execa("podman", ["history", "--format", "{{.CreatedBy}}", built[1]!.ref]))
        .stdout;
      expect(history).not.toMatch(/BEGIN CERTIFICATE|NODE_EXTRA_CA_CERTS=\/etc/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await execa(
        "podman",
        ["rmi", "-f", ...["base", "orchestrator", "sut"].map((n) => imageRef(n as "base", "clean-checkout"))],
        {
          reject: false,
        },
      );
    }
  }, 1_800_000);

  it("the thin images' own layers are small (compiled code only) and the CA bundle is in no layer", async () => {
    for (const name of ["orchestrator", "sut"] as const) {
      const ref = imageRef(name, "0.1.0");
      const base = imageRef("base", "0.1.0");
      const layers = async (r: string) =>
        JSON.parse(
          (await execa("podman", ["image", "inspect", "--format", "{{json .RootFS.Layers}}", r])).stdout,
        ) as string[];
      const own = (await layers(ref)).length - (await layers(base)).length;
      expect(own, name).toBeGreaterThan(0);
      // Files of the CA bundle in the image: none (it was a build secret).
      const found = await execa("podman", [
        "run",
        "--rm",
        "--entrypoint",
        "sh",
        ref,
        "-c",
        "ls /run/secrets 2>/dev/null | wc -l",
      ]);
      expect(found.stdout.trim(), name).toBe("0");
    }
  });

  it("tiers images check: uid 10001, read-only root, no capabilities, tini PID 1 reaping orphans, healthy", async () => {
    const run = await runTiers(["images", "check", "--engine", "podman"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const ok = run.stdout.split("\n").filter((l) => l.startsWith("ok "));
    for (const image of ["base", "orchestrator", "sut"]) {
      const mine = ok
        .filter((l) => l.includes(`/${image}:0.1.0:`))
        .map((l) => l.replace(/ \(.*$/, "").split(": ")[1]);
      expect(mine, image).toEqual(
        expect.arrayContaining([
          "ENTRYPOINT starts with tini",
          "runs as uid 10001",
          "no capabilities",
          "tini is PID 1",
          "read-only root filesystem",
          "tini reaps an orphaned grandchild",
          ...(image === "base" ? [] : ["healthcheck reports healthy"]),
        ]),
      );
    }
    expect(run.stdout).toMatch(/^all \d+ checks passed$/m);
    // Nothing of the checks remains.
    const left = await execa("podman", [
      "ps",
      "-a",
      "--filter",
      "name=tiers-check-",
      "--format",
      "{{.Names}}",
    ]);
    expect(left.stdout.trim()).toBe("");
  });

  it("the orphan check can fail: with node as PID 1 the orphaned grandchild stays a zombie", async () => {
    const ref = imageRef("orchestrator", "0.1.0");
    const withTini = await orphanScenario("podman", ref, ["tini", "--"]);
    expect(withTini).toMatchObject({ ppid: 1, state: "gone" });
    const withoutTini = await orphanScenario("podman", ref, []);
    expect(withoutTini).toMatchObject({ ppid: 1, state: "Z" });
  });
});

describe("tiers images where no engine runs", () => {
  const bin = mkdtempSync(join(tmpdir(), "tiers-noengine-"));
  beforeAll(() => {
    symlinkSync(process.execPath, join(bin, "node"));
    symlinkSync(execFileSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).trim(), join(bin, "git"));
  });
  afterAll(() => rmSync(bin, { recursive: true, force: true }));

  it("says so, names what it tried, and exits 6", async () => {
    for (const sub of ["build", "check"]) {
      const run = await runTiers(["images", sub], { PATH: bin });
      expect(run.code, sub).toBe(6);
      expect(run.stderr, sub).toMatch(
        /^error: no container engine runs here \(podman: not installed; docker: not installed\)\n {2}install and configure podman/m,
      );
    }
  });

  it("refuses an unknown engine with exit 3", async () => {
    const run = await runTiers(["images", "build", "--engine", "nerdctl"]);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain("--engine");
    expect(run.stderr).toContain('"nerdctl"');
  });
});
