import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * No Docker engine runs on these machines, so the image is not built here; these checks read the
 * Dockerfile for what the cluster target relies on (docs/architecture.md, "Contract for the
 * orchestrator image"). `docker build` where an engine exists is the real test.
 */
const text = readFileSync(
  fileURLToPath(new URL("../../../workloads/orchestrator/Dockerfile", import.meta.url)),
  "utf8",
);
const lines = text.split("\n").filter((l) => !l.startsWith("#"));
const stages = [...text.matchAll(/^FROM (\S+) AS (\S+)$/gm)].map((m) => ({ from: m[1]!, name: m[2]! }));
const stageText = (name: string) => {
  const start = text.indexOf(`AS ${name}\n`);
  const next = text.indexOf("\nFROM ", start);
  return text.slice(start, next === -1 ? undefined : next);
};

describe("the orchestrator image", () => {
  it("is built in two stages over builders: a base with tools and dependencies, a thin layer with the code", () => {
    expect(stages.map((s) => s.name)).toStrictEqual(["deps", "compile", "base", "orchestrator"]);
    expect(stages.find((s) => s.name === "orchestrator")!.from).toBe("base");
    expect(stageText("orchestrator")).not.toMatch(/apt-get|npm ci/);
    expect(stageText("base")).toMatch(/apt-get install[^\n]*\biperf3 fio stress-ng faketime\b/);
  });

  it("pins its base image (no latest, a full version)", () => {
    expect(text).toMatch(/^ARG NODE_IMAGE=node:\d+\.\d+\.\d+-bookworm-slim$/m);
    expect(text).not.toMatch(/:latest\b/);
  });

  it("runs as a non-root user, with a healthcheck, the orchestrator on PATH and serve by default", () => {
    const user = lines.filter((l) => l.startsWith("USER "));
    expect(user).toStrictEqual(["USER 10001:10001"]);
    expect(text).toMatch(
      /^HEALTHCHECK .*\n\s+CMD \["node", "-e", "require\('https'\)\.get\(\{host:'127\.0\.0\.1',port:8080,path:'\/healthz'/m,
    );
    expect(text).toContain("/usr/local/bin/orchestrator");
    expect(lines).toContain('ENTRYPOINT ["tini", "--", "orchestrator"]');
    expect(lines).toContain('CMD ["serve"]');
  });

  it("runs compiled JavaScript, and leaves the Pulumi SDKs and dev dependencies out", () => {
    expect(stageText("deps")).toContain("npm ci --omit=dev --omit=optional --no-workspaces");
    const pkg = JSON.parse(
      readFileSync(fileURLToPath(new URL("../../../package.json", import.meta.url)), "utf8"),
    ) as {
      dependencies: Record<string, string>;
      optionalDependencies: Record<string, string>;
    };
    expect(Object.keys(pkg.dependencies).filter((d) => d.startsWith("@pulumi/"))).toStrictEqual([]);
    expect(Object.keys(pkg.optionalDependencies).sort()).toStrictEqual([
      "@pulumi/aws",
      "@pulumi/kubernetes",
      "@pulumi/kubernetes-cert-manager",
      "@pulumi/pulumi",
      "@pulumi/random",
      "@pulumi/tls",
    ]);
    expect(stageText("compile")).toContain("npx tsc -p tsconfig.build.json");
  });
});
