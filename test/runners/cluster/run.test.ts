/**
 * `tiers run` end to end on this machine: the real CLI, Pulumi's own Automation API driving the
 * recording `pulumi` stand-in, port-forwards through @kubernetes/client-node to the Kubernetes API
 * stand-in, which bridges them to a real orchestrator process; the bundle through a real S3 API
 * server; import and reports in a real SQLite. Every command sequence is asserted exactly.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ExitCode } from "../../../tiers/errors.js";
import {
  startSequence,
  stackNameOf,
  startClusterWorld,
  TEMPLATE,
  type ClusterWorld,
} from "../../helpers/cluster-run.js";
import { startTiers } from "../../helpers/local-run.js";

let world: ClusterWorld | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

const RUN = ["--ephemeral", "--ttl", "4h", "--time-scale", "0.004", "--fail-on", "never"];
const args = (w: ClusterWorld, extra: readonly string[] = []) => [
  "run",
  TEMPLATE,
  ...RUN,
  "--project-dir",
  w.projectDir,
  "--out",
  join(w.scratch, "out"),
  ...extra,
];

/** The tail every ephemeral run ends with: outputs read after up … destroy, history, stack rm. */
const teardown = (s: string, destroys = 1) => [
  ...Array.from(
    { length: destroys },
    () => new RegExp(`^destroy --yes --skip-preview --exec-kind auto\\.local --stack ${s}$`),
  ),
  new RegExp(`^stack history --json --show-secrets --page-size 1 --page 1 --stack ${s}$`),
  new RegExp(`^stack rm --yes ${s}$`),
];
const afterUp = (s: string) => [
  new RegExp(`^stack output --json --stack ${s}$`),
  new RegExp(`^stack output --json --show-secrets --stack ${s}$`),
  new RegExp(`^stack history --json --show-secrets --page-size 1 --page 1 --stack ${s}$`),
  new RegExp(`^stack output --json --stack ${s}$`),
  new RegExp(`^stack output --json --show-secrets --stack ${s}$`),
];

function expectSequence(commands: string[], expected: RegExp[]): void {
  expect(commands.length, commands.join("\n")).toBe(expected.length);
  commands.forEach((c, i) => expect(c).toMatch(expected[i]!));
}

describe("tiers run --ephemeral (Automation API against the recording pulumi stand-in)", () => {
  it("creates the stack, runs up, reaches the orchestrator, hands its bundle over from S3, imports, destroys and removes the stack", async () => {
    world = await startClusterWorld({
      up: [
        { stdout: ["+  pulumi:pulumi:Stack test-tiers-e2e creating", "+  aws:s3:Bucket bundles created"] },
      ],
    });
    const run = startTiers(args(world), world.env);
    const code = await run.exited;
    const out = run.output();
    expect(code, out).toBe(ExitCode.Ok);
    const s = stackNameOf(out);
    const expiresAt = /expires at (\S+)/.exec(out)![1]!;
    expect(
      Date.parse(expiresAt) -
        Date.parse(
          `${s.slice(5, 9)}-${s.slice(9, 11)}-${s.slice(11, 13)}T${s.slice(14, 16)}:${s.slice(16, 18)}:00Z`,
        ),
    ).toBe(4 * 3_600_000);
    expectSequence(await world.commands(), [
      ...startSequence(s, "e2e-team", expiresAt),
      ...afterUp(s),
      ...teardown(s),
    ]);
    expect(out).toContain("  up: +  aws:s3:Bucket bundles created");
    expect(out).toMatch(
      /e2e-1: pod orchestrator-7d9f8b6c5-x2x9q in namespace tiers-e2e-1, region us-east-1, API through a port-forward on 127\.0\.0\.1:\d+, bundles from s3:\/\/.+\/bundles\/e2e-1\//,
    );
    expect(out).toMatch(
      /e2e-1: bundle [0-9a-f-]{12} \(\d+ bytes\) from s3:\/\/.+\/bundles\/e2e-1\/ handed over to/,
    );
    expect(out).toContain(`stack ${s}: destroyed`);
    expect(out).toContain(`stack ${s}: removed`);
    expect(out).toMatch(/^1 bundle imported into /m);
    // Every API call went through the Kubernetes API's port-forward, not to the orchestrator directly.
    expect(world.kube.portForwards.length).toBeGreaterThan(0);
    expect(new Set(world.kube.portForwards)).toStrictEqual(
      new Set(["tiers-e2e-1/orchestrator-7d9f8b6c5-x2x9q:8080"]),
    );
    expect(world.s3.events.map((e) => e.key)).toStrictEqual([
      expect.stringMatching(/^bundles\/e2e-1\/e2e-1-base-\d{8}-\d{4}-.*\.tar\.gz$/),
    ]);
    expect(await world.pulumi.stacks()).toStrictEqual({});
    // `stack rm` removed the ephemeral stack's file; the template stays.
    expect(readdirSync(join(world.projectDir, "stacks"))).toStrictEqual([`Pulumi.${TEMPLATE}.yaml`]);
    const runDir = readdirSync(join(world.scratch, "out"))[0]!;
    expect(existsSync(join(world.scratch, "out", runDir, "report.html"))).toBe(true);
  });
});
