/** `tiers policy check`, run as CI runs it: the real CLI entry in a child process. */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { POLICIES } from "../../policies/policies.js";
import { SarifLogSchema } from "./policy/sarif-rules.js";

const BIN = fileURLToPath(new URL("../../bin/tiers.js", import.meta.url));
const FIXTURES = "test/fixtures/policies";
/** Every stack file this repository ships (the tiers' and the central one). */
const SHIPPED = readdirSync(fileURLToPath(new URL("../../stacks", import.meta.url)))
  .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
  .filter((s): s is string => s !== undefined)
  .sort();
const tiers = (...args: string[]) =>
  execa(process.execPath, [BIN, ...args], {
    reject: false,
    timeout: 180_000,
    cwd: fileURLToPath(new URL("../../", import.meta.url)),
  });
const dir = mkdtempSync(join(tmpdir(), "tiers-policy-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The fixture program's stack file, breaking `breaks`. */
function brokenStackFile(breaks: string[]): string {
  const file = join(dir, `Pulumi.${breaks.join("+")}.yaml`);
  writeFileSync(file, `config:\n  fixture:break: ${JSON.stringify(breaks)}\n`);
  return file;
}
const broken = (file: string, ...rest: string[]) =>
  tiers(
    "policy",
    "check",
    "base-20260501-0930",
    "--stack-file",
    file,
    "--program",
    `${FIXTURES}/broken-program.ts`,
    ...rest,
  );

describe("tiers policy check", () => {
  it("passes every shipped stack, the central one too, exit 0", async () => {
    const r = await tiers("policy", "check", ...SHIPPED);
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toBe(
      `Policy pack test-tiers@v0.1.0: ${POLICIES.length} policies (12 resource, 13 stack), applied offline under Pulumi's mock runtime`,
    );
    for (const s of SHIPPED)
      expect(lines).toContainEqual(
        expect.stringMatching(
          new RegExp(`^Stack ${s} \\(stacks/Pulumi\\.${s}\\.yaml\\): \\d+ resources, no violations$`),
        ),
      );
    expect(lines.at(-1)).toBe(
      `Passed: 0 mandatory violations and 0 advisory violations in ${SHIPPED.length} stacks.`,
    );
  });

  it("prints each violation as pulumi preview does and exits 8 on a mandatory one", async () => {
    const file = brokenStackFile(["host-access", "tier-capacity"]);
    const r = await broken(file);
    expect(r.exitCode).toBe(8);
    expect(r.stdout.split("\n").slice(1)).toStrictEqual([
      "",
      `Stack base-20260501-0930 (${file}): 19 resources, 2 mandatory violations`,
      "    - [mandatory]  host-access  (kubernetes:apps/v1:Deployment: sut)",
      "      urn:pulumi:base-20260501-0930::test-tiers::kubernetes:apps/v1:Deployment::sut",
      `      ${POLICIES.find((p) => p.name === "host-access")!.description}`,
      "      Deployment tiers-env-1/sut: hostNetwork: true; remove it (only workloads in chaos-mesh or monitoring may reach the node, never an environment's)",
      "    - [mandatory]  tier-capacity  (pulumi:pulumi:Stack: test-tiers-base-20260501-0930)",
      "      urn:pulumi:base-20260501-0930::test-tiers::pulumi:pulumi:Stack::test-tiers-base-20260501-0930",
      `      ${POLICIES.find((p) => p.name === "tier-capacity")!.description}`,
      "      tier base reaches 48 vCPU and 192 GiB at its ceiling (node group nodes: 12 × m6i.xlarge), over the catalog's cap of 40 vCPU and 160 GiB (1 × 10 × m6i.xlarge); lower maxSize or the instance type",
      "",
      "Failed: 2 mandatory violations and 0 advisory violations in 1 stack.",
    ]);
  });

  it("fails a broken stack file of the real program with its violation", async () => {
    const r = await tiers("policy", "check", "no-owner", "--stack-file", `${FIXTURES}/Pulumi.no-owner.yaml`);
    expect(r.exitCode).toBe(8);
    expect(r.stdout).toContain(
      "    - [mandatory]  lifecycle-tags  (pulumi:providers:aws: no-owner-aws-us-east-1)",
    );
    expect(r.stdout).toContain(
      "AWS provider no-owner-aws-us-east-1: its defaultTags lack test-tiers:owner; set test-tiers:owner in the stack config",
    );
  });

  it("writes JSON with the pack, its policies and every stack's violations", async () => {
    const r = await broken(brokenStackFile(["pinned-images"]), "--format", "json");
    expect(r.exitCode).toBe(8);
    const report = JSON.parse(r.stdout) as {
      kind: string;
      pack: unknown;
      policies: { name: string; kind: string }[];
      stacks: {
        stack: string;
        resources: number;
        violations: { policy: string; level: string; urn: string; message: string }[];
      }[];
    };
    expect(report.kind).toBe("test-tiers/policy-check");
    expect(report.pack).toStrictEqual({ name: "test-tiers", version: "0.1.0" });
    expect(report.policies.map((p) => p.name)).toStrictEqual(POLICIES.map((p) => p.name));
    expect(
      report.stacks.map((s) => [s.stack, s.violations.map((v) => [v.policy, v.level, v.urn])]),
    ).toStrictEqual([
      [
        "base-20260501-0930",
        [
          [
            "pinned-images",
            "mandatory",
            "urn:pulumi:base-20260501-0930::test-tiers::kubernetes:apps/v1:Deployment::sut",
          ],
        ],
      ],
    ]);
  });

  it("writes SARIF 2.1.0 that code scanning accepts", async () => {
    const r = await broken(brokenStackFile(["s3-encryption", "eks-public-endpoint"]), "--format", "sarif");
    expect(r.exitCode).toBe(8);
    const log = SarifLogSchema.parse(JSON.parse(r.stdout));
    expect(log.runs[0]!.tool.driver.rules.map((x) => x.id)).toStrictEqual(POLICIES.map((p) => p.name));
    expect(log.runs[0]!.results.map((x) => [x.ruleId, x.level])).toStrictEqual([
      ["s3-encryption", "error"],
      ["eks-public-endpoint", "error"],
    ]);
  });

  it("exits 3 naming every unknown stack, before running any program", async () => {
    const r = await tiers("policy", "check", "base", "mega", "nope");
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      [
        "error: unknown stacks: mega, nope",
        '  stacks/Pulumi.mega.yaml (file): unknown stack mega: no such stack file (got "mega", expected one of base, central, chaos, local, stress, ultimate, or --stack-file)',
        '  stacks/Pulumi.nope.yaml (file): unknown stack nope: no such stack file (got "nope", expected one of base, central, chaos, local, stress, ultimate, or --stack-file)',
      ].join("\n"),
    );
  });

  it("exits 3 when the program throws, with its message and where", async () => {
    const r = await tiers("policy", "check", "base", "--program", `${FIXTURES}/throwing-program.ts`);
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(
      /^error: stack base could not be checked\n {2}stack base: the program failed under Pulumi's mock runtime: Error: the fixture program refuses to run: no such tier as mega \(at .*test\/fixtures\/policies\/throwing-program\.ts:3:9\)\)$/,
    );
  });

  it("exits 3 with the positioned problems of a bad stack file", async () => {
    const file = join(dir, "Pulumi.bad.yaml");
    writeFileSync(file, "config:\n  test-tiers:tier: mega\n");
    const r = await tiers("policy", "check", "bad", "--stack-file", file);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toBe(
      `error: invalid stack configuration in ${file}\n  ${file}:2:20 test-tiers:tier: not an allowed value (got "mega", expected one of base, stress, chaos, ultimate)`,
    );
  });

  it.each([
    [
      ["base", "--format", "xml"],
      'error: --format: not a format (got "xml", expected one of text, json, sarif)',
    ],
    [
      ["base", "stress", "--stack-file", "x.yaml"],
      "error: --stack-file names the config of one stack (got 2 stacks: base, stress)",
    ],
  ])("exits 2 for %j", async (args, stderr) => {
    const r = await tiers("policy", "check", ...args);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe(stderr);
  });
});
