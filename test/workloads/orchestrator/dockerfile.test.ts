import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * What the Dockerfiles promise, read from their text (seed 002's two stages, the contract of
 * docs/architecture.md "Container images"). The images are also built and run for real with podman:
 * test/runners/images/images.test.ts.
 */
const read = (path: string) =>
  readFileSync(fileURLToPath(new URL(`../../../${path}`, import.meta.url)), "utf8");
const files = {
  base: read("workloads/base/Dockerfile"),
  orchestrator: read("workloads/orchestrator/Dockerfile"),
  sut: read("workloads/sut/Dockerfile"),
};
const stages = (text: string) =>
  [...text.matchAll(/^FROM (\S+) AS (\S+)$/gm)].map((m) => ({ from: m[1]!, name: m[2]! }));
const stageText = (text: string, name: string) => {
  const start = text.indexOf(`AS ${name}\n`);
  const next = text.indexOf("\nFROM ", start);
  return text.slice(start, next === -1 ? undefined : next);
};
const code = (text: string) => text.split("\n").filter((l) => !l.startsWith("#"));

describe("the images' Dockerfiles", () => {
  it("base: Node pinned by digest, the tools, tini, user 10001 and the production dependencies", () => {
    expect(files.base).toMatch(/^ARG NODE_IMAGE=docker\.io\/library\/node:20[\w.-]*@sha256:[a-f0-9]{64}$/m);
    expect(stages(files.base)).toStrictEqual([
      { from: "${NODE_IMAGE}", name: "deps" },
      { from: "${NODE_IMAGE}", name: "base" },
    ]);
    expect(stageText(files.base, "base")).toMatch(
      /apt-get install[^\n]*\biperf3 fio stress-ng wrk faketime tini\b/,
    );
    expect(stageText(files.base, "base")).toContain("useradd --uid 10001 --gid 10001");
    expect(stageText(files.base, "deps")).toContain("npm ci --omit=dev --omit=optional --no-workspaces");
  });

  it("thin images start FROM the base and add only compiled code", () => {
    for (const [name, text] of [
      ["orchestrator", files.orchestrator],
      ["sut", files.sut],
    ] as const) {
      expect(text).toMatch(/^ARG BASE_IMAGE=ghcr\.io\/test-tiers\/base:\d+\.\d+\.\d+$/m);
      expect(stages(text)).toStrictEqual([
        { from: "${BASE_IMAGE}", name: "compile" },
        { from: "${BASE_IMAGE}", name },
      ]);
      const thin = stageText(text, name);
      expect(thin, name).not.toMatch(/apt-get|npm ci|RUN /);
      expect(thin, name).toMatch(/COPY --from=compile \/build\/dist/);
      expect(stageText(text, "compile")).toContain("npx tsc -p tsconfig.build.json");
    }
    // The same compile stage in both, so the second build takes it from the cache.
    expect(code(stageText(files.sut, "compile"))).toStrictEqual(
      code(stageText(files.orchestrator, "compile")),
    );
  });

  it("every npm install gets the CA bundle as a build secret, never a layer", () => {
    for (const text of Object.values(files)) {
      const npm = code(text).filter((l) => /npm ci/.test(l));
      expect(npm.length).toBeGreaterThan(0);
      expect(text).not.toMatch(/^(COPY|ADD|ENV|ARG)[^\n]*(NODE_EXTRA_CA_CERTS|\.crt|\.pem)/m);
      expect(text.match(/RUN --mount=type=secret,id=ca/g)).toHaveLength(npm.length);
    }
  });

  it("labels, healthchecks, a non-root user and tini as the entrypoint", () => {
    for (const [name, text] of Object.entries(files)) {
      for (const label of ["source", "revision", "version"])
        expect(text, name).toContain(`org.opencontainers.image.${label}="\${${label.toUpperCase()}}"`);
      // The image runs as 10001 (a builder stage may run as root; it is not in the image).
      expect(
        code(text)
          .filter((l) => l.startsWith("USER "))
          .at(-1),
        name,
      ).toBe("USER 10001:10001");
      expect(
        code(text).find((l) => l.startsWith("ENTRYPOINT ")),
        name,
      ).toMatch(/^ENTRYPOINT \["tini", "--"/);
    }
    expect(files.orchestrator).toMatch(
      /^HEALTHCHECK .*\n\s+CMD \["node", "-e", "fetch\('http:\/\/127\.0\.0\.1:8080\/healthz'\)/m,
    );
    expect(files.sut).toMatch(
      /^HEALTHCHECK .*\n\s+CMD \["node", "-e", "fetch\('http:\/\/127\.0\.0\.1:'\+\(process\.env\.PORT/m,
    );
    expect(code(files.orchestrator)).toContain('CMD ["orchestrator", "serve"]');
    expect(code(files.sut)).toContain('ENTRYPOINT ["tini", "--", "sut"]');
  });

  it("leaves the Pulumi SDKs out of the images (optional dependencies)", () => {
    const pkg = JSON.parse(read("package.json")) as {
      dependencies: Record<string, string>;
      optionalDependencies: Record<string, string>;
    };
    expect(Object.keys(pkg.dependencies).filter((d) => d.startsWith("@pulumi/"))).toStrictEqual([]);
    expect(Object.keys(pkg.optionalDependencies).sort()).toStrictEqual([
      "@pulumi/aws",
      "@pulumi/kubernetes",
      "@pulumi/pulumi",
      "@pulumi/random",
      "@pulumi/tls",
    ]);
  });
});
