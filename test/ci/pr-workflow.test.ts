/**
 * The pull-request workflow stays in step with the repository: what .ci/run installs, the checks
 * the README asks for, every shipped stack through the offline policy check, and the cloud preview
 * only where credentials exist. (GitHub runs it; here its content is checked.)
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { shippedStacks } from "../../runners/policy/run.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
}
interface Job {
  steps: Step[];
  services?: Record<string, { image: string; env: Record<string, string> }>;
  strategy?: { matrix: { stack: string[] } };
  env?: Record<string, string>;
  permissions?: Record<string, string>;
}
const workflow = parse(readFileSync(`${ROOT}.github/workflows/pr.yml`, "utf8")) as {
  on: Record<string, unknown>;
  jobs: { test: Job; preview: Job };
};
const runs = (job: Job): string[] => job.steps.flatMap((s) => (s.run ? [s.run.trim()] : []));
const stacksOf = (command: string): string[] => {
  const words = command.split("policy check ")[1]!.split(/\s+/);
  const end = words.findIndex((w) => w.startsWith("-") || w === ">");
  return end === -1 ? words : words.slice(0, end);
};

describe(".github/workflows/pr.yml", () => {
  const { test, preview } = workflow.jobs;

  it("runs on every pull request", () => {
    expect(Object.keys(workflow.on)).toStrictEqual(["pull_request"]);
  });

  it("installs the Debian packages .ci/run installs, Node 20 and PostgreSQL with trust auth", () => {
    const ciPackages = /packages=\(([^)]+)\)/.exec(readFileSync(`${ROOT}.ci/run`, "utf8"))![1]!.split(" ");
    const apt = runs(test).find((r) => r.includes("apt-get install"))!;
    expect(apt.split("--no-install-recommends ")[1]!.split(" ")).toStrictEqual(ciPackages);
    expect(test.steps.find((s) => s.uses?.startsWith("actions/setup-node@"))?.with?.["node-version"]).toBe(
      20,
    );
    expect(test.services?.postgres?.env).toMatchObject({
      POSTGRES_HOST_AUTH_METHOD: "trust",
      POSTGRES_DB: "test",
    });
  });

  it("typechecks, lints, checks the format and runs the tests, in that order", () => {
    const checks = runs(test).filter((r) => r.startsWith("npm "));
    expect(checks).toStrictEqual([
      "npm ci --no-audit --no-fund",
      "npm run typecheck",
      "npm run lint",
      "npm run format:check",
      "npm test",
    ]);
  });

  it("checks every shipped stack offline, as text and as SARIF for code scanning", () => {
    const checks = runs(test).filter((r) => r.includes("tiers policy check"));
    expect(checks).toHaveLength(2);
    for (const c of checks) expect(stacksOf(c).sort()).toStrictEqual(shippedStacks());
    expect(checks[1]).toContain("--format sarif > policy.sarif");
    const upload = test.steps.find((s) => s.uses?.startsWith("github/codeql-action/upload-sarif@"))!;
    expect(upload.with).toMatchObject({ sarif_file: "policy.sarif" });
    expect(test.permissions).toMatchObject({ "security-events": "write" });
  });

  it("previews every AWS stack (the EKS tiers and central) with the policy pack, only when credentials are configured", () => {
    expect(preview.strategy!.matrix.stack.sort()).toStrictEqual(shippedStacks().filter((s) => s !== "local"));
    expect(preview.env!.HAS_CREDENTIALS).toContain("secrets.AWS_ROLE_TO_ASSUME");
    const gated = preview.steps.filter((s) => s.if === "env.HAS_CREDENTIALS == 'true'");
    expect(gated).toHaveLength(preview.steps.length - 1);
    expect(runs(preview).at(-1)).toContain('pulumi preview --stack "$STACK" --policy-pack policies');
  });
});
