/**
 * The release workflow (GitHub runs it on a tag; here its content is checked): every path it names
 * exists, the images are built base first with Buildx for two architectures, pushed with provenance
 * and SBOM attestations, and the pin step really rewrites the shipped stack files' test-tiers:images
 * (run here on copies, then the copies go through the stack validation's image rule).
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { pinStackImages } from "../../runners/images/pin.js";
import { shippedStacks } from "../../runners/policy/run.js";
import { imagePinProblem } from "../../tiers/infra/image-ref.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
interface Step {
  id?: string;
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, string | boolean>;
}
const workflow = parse(readFileSync(`${ROOT}.github/workflows/release.yml`, "utf8")) as {
  on: { push: { tags: string[] } };
  jobs: {
    images: { steps: Step[]; permissions: Record<string, string> };
    pin: { needs: string; steps: Step[] };
  };
};
const builds = workflow.jobs.images.steps.filter((s) => s.uses?.startsWith("docker/build-push-action@"));

describe(".github/workflows/release.yml", () => {
  it("runs on version tags only", () => {
    expect(workflow.on).toStrictEqual({ push: { tags: ["v*"] } });
  });

  it("builds base, orchestrator and sut in that order from Dockerfiles that exist", () => {
    expect(builds.map((b) => b.with!.file)).toStrictEqual([
      "workloads/base/Dockerfile",
      "workloads/orchestrator/Dockerfile",
      "workloads/sut/Dockerfile",
    ]);
    for (const b of builds)
      expect(existsSync(join(ROOT, String(b.with!.file))), String(b.with!.file)).toBe(true);
    // The thin images start FROM the base just pushed, by its digest.
    for (const b of builds.slice(1))
      expect(String(b.with!["build-args"])).toContain(
        "BASE_IMAGE=${{ env.REGISTRY }}/base:${{ steps.version.outputs.version }}@${{ steps.base.outputs.digest }}",
      );
    // Every build argument the workflow passes is declared by that Dockerfile.
    for (const b of builds) {
      const text = readFileSync(join(ROOT, String(b.with!.file)), "utf8");
      const declared = [...text.matchAll(/^ARG (\w+)/gm)].map((m) => m[1]);
      for (const line of String(b.with!["build-args"]).trim().split("\n"))
        expect(declared, `${String(b.with!.file)}: ${line}`).toContain(line.split("=")[0]);
    }
  });

  it("pushes multi-arch images to GHCR with provenance and SBOM attestations", () => {
    expect(workflow.jobs.images.steps.map((s) => s.uses?.split("@")[0])).toEqual(
      expect.arrayContaining([
        "docker/setup-qemu-action",
        "docker/setup-buildx-action",
        "docker/login-action",
      ]),
    );
    for (const b of builds) {
      expect(b.with).toMatchObject({
        platforms: "linux/amd64,linux/arm64",
        push: true,
        provenance: "mode=max",
        sbom: true,
      });
      expect(String(b.with!.tags)).toMatch(/^\$\{\{ env\.REGISTRY \}\}\//);
    }
    expect(workflow.jobs.images.permissions).toMatchObject({
      packages: "write",
      "id-token": "write",
      attestations: "write",
    });
  });

  it("opens a PR pinning the digests with a script that exists, after the stacks' policy check", () => {
    const runs = workflow.jobs.pin.steps.flatMap((s) => (s.run ? [s.run] : []));
    const pin = runs.find((r) => r.includes("pin-images.ts"))!;
    expect(existsSync(join(ROOT, "runners/images/pin-images.ts"))).toBe(true);
    expect(pin).toContain("needs.images.outputs.orchestrator");
    expect(runs.some((r) => r.startsWith("npx tiers policy check"))).toBe(true);
    const pr = workflow.jobs.pin.steps.find((s) => s.uses?.startsWith("peter-evans/create-pull-request@"));
    expect(pr?.with?.["add-paths"]).toBe("stacks/Pulumi.*.yaml");
  });
});

describe("pinStackImages", () => {
  const dir = mkdtempSync(join(tmpdir(), "tiers-pin-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const digest = (c: string) => `sha256:${c.repeat(64)}`;
  const images = {
    orchestrator: `ghcr.io/test-tiers/orchestrator:0.2.0@${digest("a")}`,
    sut: `ghcr.io/test-tiers/sut:0.2.0@${digest("b")}`,
  };

  it("writes the digests into every shipped stack file and keeps the comments", () => {
    const files = shippedStacks().map((s) => {
      const to = join(dir, `Pulumi.${s}.yaml`);
      copyFileSync(join(ROOT, "stacks", `Pulumi.${s}.yaml`), to);
      return to;
    });
    expect(pinStackImages(files, images)).toStrictEqual(files);
    for (const f of files) {
      const text = readFileSync(f, "utf8");
      const config = (parse(text) as { config: Record<string, { orchestrator: string; sut: string }> })
        .config;
      expect(config["test-tiers:images"]).toMatchObject(images);
      expect(imagePinProblem(config["test-tiers:images"]!.orchestrator)).toBeUndefined();
      const original = readFileSync(join(ROOT, "stacks", f.split("/").at(-1)!), "utf8");
      const comments = (t: string) => t.split("\n").filter((l) => l.trimStart().startsWith("#"));
      expect(comments(text)).toStrictEqual(comments(original));
    }
    // A second run changes nothing.
    expect(pinStackImages(files, images)).toStrictEqual([]);
  });

  it("refuses a reference without a digest", () => {
    expect(() => pinStackImages([], { ...images, sut: "ghcr.io/test-tiers/sut:0.2.0" })).toThrow(
      /images\.sut: "ghcr\.io\/test-tiers\/sut:0\.2\.0" is not a repo:tag@sha256/,
    );
  });
});
