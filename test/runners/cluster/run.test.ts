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
  runArgs,
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
    const run = startTiers(runArgs(world), world.env);
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

  it("takes the bundle through the orchestrator's API where the stack has no bucket (the local stack)", async () => {
    world = await startClusterWorld({ up: [{}] }, { bucket: false });
    const run = startTiers(runArgs(world), world.env);
    const code = await run.exited;
    const out = run.output();
    expect(code, out).toBe(ExitCode.Ok);
    const s = stackNameOf(out);
    expectSequence(await world.commands(), [...startSequence(s), ...afterUp(s), ...teardown(s)]);
    expect(out).toMatch(
      /e2e-1: pod orchestrator-7d9f8b6c5-x2x9q in namespace tiers-e2e-1, region us-east-1, API through a port-forward on 127\.0\.0\.1:\d+, bundles from the orchestrator's API$/m,
    );
    expect(out).toMatch(
      /e2e-1: bundle [0-9a-f-]{12} \(\d+ bytes\) from the orchestrator's API handed over to/,
    );
    expect(out).toMatch(/^1 bundle imported into /m);
    // Nothing went through S3: the orchestrator kept the bundle on its volume, the runner downloaded
    // it through the port-forward.
    expect(world.s3.events).toStrictEqual([]);
    expect(new Set(world.kube.portForwards)).toStrictEqual(
      new Set(["tiers-e2e-1/orchestrator-7d9f8b6c5-x2x9q:8080"]),
    );
    const runDir = readdirSync(join(world.scratch, "out"))[0]!;
    expect(readdirSync(join(world.scratch, "out", runDir, "inbox", "imported"))).toStrictEqual([
      expect.stringMatching(/^.*--e2e-1--[0-9a-f-]{12}\.tar\.gz$/),
    ]);
    expect(await world.pulumi.stacks()).toStrictEqual({});
  });
});

describe("tiers run --ephemeral: teardown on every path", () => {
  it("destroys and removes the stack after a failed up (exit 6)", async () => {
    world = await startClusterWorld(
      { up: [{ result: "failed", stderr: "creating EKS Cluster: AccessDeniedException: not authorized" }] },
      { orchestrator: false },
    );
    const run = startTiers(runArgs(world), world.env);
    const code = await run.exited;
    const out = run.output();
    expect(code, out).toBe(ExitCode.Infrastructure);
    const s = stackNameOf(out);
    expectSequence(await world.commands(), [...startSequence(s), ...teardown(s)]);
    expect(out).toContain(
      `error: pulumi up of stack ${s} failed: creating EKS Cluster: AccessDeniedException: not authorized`,
    );
    expect(await world.pulumi.stacks()).toStrictEqual({});
  });

  it("retries a destroy that fails twice, with backoff, then removes the stack", async () => {
    world = await startClusterWorld(
      {
        up: [{ result: "failed", stderr: "creating node group: ResourceLimitExceeded" }],
        destroy: [
          { result: "failed", stderr: "deleting VPC: DependencyViolation: has dependencies" },
          { result: "failed", stderr: "deleting subnet: DependencyViolation: ENI in use" },
          {},
        ],
      },
      { orchestrator: false },
    );
    const run = startTiers(runArgs(world), world.env);
    const code = await run.exited;
    const out = run.output();
    expect(code, out).toBe(ExitCode.Infrastructure);
    const s = stackNameOf(out);
    const destroy = new RegExp(`^destroy --yes --skip-preview --exec-kind auto\\.local --stack ${s}$`);
    expectSequence(await world.commands(), [...startSequence(s), destroy, destroy, ...teardown(s)]);
    expect(out).toContain(
      `stack ${s}: destroy attempt 1 of 4 failed (deleting VPC: DependencyViolation: has dependencies); retrying in 0.05 s`,
    );
    expect(out).toContain(
      `stack ${s}: destroy attempt 2 of 4 failed (deleting subnet: DependencyViolation: ENI in use); retrying in 0.15 s`,
    );
    expect(out).toContain(`stack ${s}: destroyed (attempt 3 of 4)`);
    expect(await world.pulumi.stacks()).toStrictEqual({});
  });

  it("exits 9 with the stack's name when destroy never succeeds, and keeps the stack and its file", async () => {
    world = await startClusterWorld(
      {
        up: [{ result: "failed", stderr: "boom" }],
        destroy: [{ result: "failed", stderr: "deleting bucket: BucketNotEmpty" }],
      },
      { orchestrator: false },
    );
    const run = startTiers(runArgs(world), { ...world.env, TIERS_DESTROY_ATTEMPTS: "2" });
    const code = await run.exited;
    const out = run.output();
    expect(code, out).toBe(ExitCode.TeardownFailed);
    const s = stackNameOf(out);
    const destroy = new RegExp(`^destroy --yes --skip-preview --exec-kind auto\\.local --stack ${s}$`);
    expectSequence(await world.commands(), [
      ...startSequence(s),
      destroy,
      destroy,
      /^version$/,
      /^stack ls --json$/,
    ]);
    expect(out).toContain(`error: teardown failed: stack ${s} may still hold resources`);
    expect(out).toContain("attempt 2: deleting bucket: BucketNotEmpty");
    expect(out).toContain(`finish it: pulumi destroy --stack ${s} --yes && pulumi stack rm ${s} --yes`);
    expect(Object.keys(await world.pulumi.stacks())).toStrictEqual([s]);
    expect(existsSync(join(world.projectDir, "stacks", `Pulumi.${s}.yaml`))).toBe(true);
  });

  for (const [signal, what] of [
    ["SIGINT", "Ctrl-C"],
    ["SIGTERM", "SIGTERM"],
  ] as const)
    it(`on ${what} during up: the CLI is interrupted, the update cancelled, the stack destroyed and removed (exit 130)`, async () => {
      world = await startClusterWorld(
        { up: [{ stdout: ["+  aws:ec2:Vpc vpc creating"], waitForSignal: true }] },
        { orchestrator: false },
      );
      const run = startTiers(runArgs(world), world.env);
      await run.waitFor(/up: \+ {2}aws:ec2:Vpc vpc creating/);
      run.child.kill(signal);
      const code = await run.exited;
      const out = run.output();
      expect(code, out).toBe(ExitCode.Interrupted);
      const s = stackNameOf(out);
      expectSequence(await world.commands(), [
        ...startSequence(s),
        new RegExp(`^cancel --yes --stack ${s}$`),
        ...teardown(s),
      ]);
      expect(out).toContain("up: ^C received; cancelling the current operation");
      expect(out).toContain(`${signal}: stopping the run and tearing down (pulumi destroy of ${s})`);
      expect(out).toContain(`stack ${s}: nothing to cancel (no update is in progress for stack '${s}')`);
      expect(await world.pulumi.stacks()).toStrictEqual({});
    });

  it("on SIGTERM during the cycle (after up): the wait stops, the stack is destroyed and removed (exit 130)", async () => {
    world = await startClusterWorld({ up: [{}] });
    const run = startTiers(runArgs(world, ["--time-scale", "0.02"]), world.env);
    await run.waitFor(/e2e-1: cycle \S+ triggered/);
    run.child.kill("SIGTERM");
    const code = await run.exited;
    const out = run.output();
    expect(code, out).toBe(ExitCode.Interrupted);
    const s = stackNameOf(out);
    expectSequence(await world.commands(), [...startSequence(s), ...afterUp(s), ...teardown(s)]);
    expect(out).toContain(
      `SIGTERM: stopping the run and tearing down (pulumi destroy of ${s}) (again to force)`,
    );
    expect(out).toContain(`stack ${s}: removed`);
    expect(out).toContain(
      `error: interrupted: the run stopped and its teardown ran (stack ${s} destroyed and removed)`,
    );
    // Stopped before the hand-off: no bundle retrieved, nothing imported.
    expect(out).not.toMatch(/handed over to/);
    expect(out).not.toMatch(/^\d+ bundles? imported/m);
    expect(await world.pulumi.stacks()).toStrictEqual({});
    expect(readdirSync(join(world.projectDir, "stacks"))).toStrictEqual([`Pulumi.${TEMPLATE}.yaml`]);
  });

  it("a lost orchestrator: its pod deleted mid-cycle fails the run (exit 6) and the stack is still destroyed", async () => {
    world = await startClusterWorld({ up: [{}] });
    const run = startTiers(runArgs(world, ["--time-scale", "0.02"]), world.env);
    await run.waitFor(/e2e-1: cycle \S+ triggered/);
    world.orchestrator!.process.kill();
    world.kube.remove("", "pods", "tiers-e2e-1", "orchestrator-7d9f8b6c5-x2x9q");
    const code = await run.exited;
    const out = run.output();
    expect(code, out).toBe(ExitCode.Infrastructure);
    const s = stackNameOf(out);
    expect(out).toMatch(/e2e-1: pod orchestrator-7d9f8b6c5-x2x9q was deleted/);
    expectSequence(await world.commands(), [...startSequence(s), ...afterUp(s), ...teardown(s)]);
    expect(await world.pulumi.stacks()).toStrictEqual({});
  });
});
