import { createHash } from "node:crypto";
import { readdirSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { afterEach, describe, expect, it } from "vitest";
import { ExitCode } from "../../../tiers/errors.js";
import { uploadFile } from "../../../workloads/bundle/s3-store.js";
import { runTiers } from "../../helpers/cli.js";
import { startClusterWorld, type ClusterWorld } from "../../helpers/cluster-run.js";

let world: ClusterWorld | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

describe("tiers bundles fetch <stack> (stack outputs through the stand-in, bundles from a real S3 server)", () => {
  it("downloads every bundle of the stack's environment prefixes, verified, and refuses a changed one", async () => {
    world = await startClusterWorld({}, { orchestrator: false, deployed: "e2e" });
    const file = join(world.scratch, "e2e-1-c1.tar.gz");
    await writeFile(file, "bundle bytes of cycle c1");
    const s3 = world.s3.client();
    await uploadFile(s3, { bucket: world.bucket, key: "bundles/e2e-1/e2e-1-c1.tar.gz", file });
    const out = join(world.scratch, "fetched");
    const run = await runTiers(
      ["bundles", "fetch", "e2e", "--project-dir", world.projectDir, "--out", out],
      world.env,
    );
    expect(run.code, run.stdout + run.stderr).toBe(ExitCode.Ok);
    expect(await readFile(join(out, "e2e-1--e2e-1-c1.tar.gz"), "utf8")).toBe("bundle bytes of cycle c1");
    expect(run.stdout).toContain(`1 bundle in ${out}; tiers central import ${out}`);
    expect((await world.commands()).slice(0, 4)).toStrictEqual([
      "version",
      "stack select --stack e2e",
      "stack output --json --stack e2e",
      "stack output --json --show-secrets --stack e2e",
    ]);

    await s3.send(
      new PutObjectCommand({
        Bucket: world.bucket,
        Key: "bundles/e2e-1/e2e-1-c1.tar.gz",
        Body: "changed",
        Metadata: { sha256: "0".repeat(64) },
      }),
    );
    const again = await runTiers(
      ["bundles", "fetch", "e2e", "--project-dir", world.projectDir, "--out", join(world.scratch, "f2")],
      world.env,
    );
    expect(again.code).toBe(ExitCode.BundleRejected);
    expect(again.stderr).toMatch(
      /bundle refused \(checksum_mismatch\): s3:\/\/.+\/bundles\/e2e-1\/e2e-1-c1\.tar\.gz: its bytes hash to/,
    );
  });

  it("takes them through the orchestrator's API over a port-forward where the stack has no bucket (the local stack)", async () => {
    world = await startClusterWorld({}, { deployed: "e2e", bucket: false });
    // A cycle on the long-lived stack leaves its bundle on the orchestrator's volume (no bucket).
    const out = join(world.scratch, "out");
    const run = await runTiers(
      [
        "run",
        "e2e",
        "--time-scale",
        "0.004",
        "--fail-on",
        "never",
        "--project-dir",
        world.projectDir,
        "--out",
        out,
      ],
      world.env,
    );
    expect(run.code, run.stdout + run.stderr).toBe(ExitCode.Ok);
    expect(run.stdout).toMatch(/from the orchestrator's API handed over to/);
    const cycle = /^cycle (\S+),/m.exec(run.stdout)![1]!;
    const imported = join(out, cycle, "inbox", "imported");
    const [handedOver] = readdirSync(imported);
    const forwardsBefore = world.kube.portForwards.length;

    const fetched = join(world.scratch, "fetched");
    const f = await runTiers(
      ["bundles", "fetch", "e2e", "--project-dir", world.projectDir, "--out", fetched, "--cycle", cycle],
      world.env,
    );
    expect(f.code, f.stdout + f.stderr).toBe(ExitCode.Ok);
    const files = readdirSync(fetched);
    expect(files).toStrictEqual([expect.stringMatching(/^e2e-1--.+\.tar\.gz$/)]);
    const to = join(fetched, files[0]!);
    expect(f.stdout).toContain(
      `e2e-1: ${files[0]!.slice("e2e-1--".length)} through the orchestrator's API → ${to}`,
    );
    expect(f.stdout).toContain(`1 bundle in ${fetched}; tiers central import ${fetched}`);
    // The same bytes the run handed over, downloaded through the Kubernetes API's port-forward, not S3.
    const sha = async (file: string) =>
      createHash("sha256")
        .update(await readFile(file))
        .digest("hex");
    expect(await sha(to)).toBe(await sha(join(imported, handedOver!)));
    expect(world.kube.portForwards.length).toBeGreaterThan(forwardsBefore);
    expect(world.s3.events).toStrictEqual([]);
    // And the centre takes it, verified against the environment's key from the stack's outputs.
    const central = await runTiers(
      [
        "central",
        "import",
        fetched,
        "--keyring",
        join(out, cycle, "keyring"),
        "--db",
        join(world.scratch, "carried.db"),
      ],
      world.env,
    );
    expect(central.code, central.stdout + central.stderr).toBe(ExitCode.Ok);
    expect(central.stdout.match(/^imported /gm)?.length).toBe(1);

    // A cycle the orchestrator never ran: nothing fetched.
    const none = join(world.scratch, "none");
    const n = await runTiers(
      [
        "bundles",
        "fetch",
        "e2e",
        "--project-dir",
        world.projectDir,
        "--out",
        none,
        "--cycle",
        "no-such-cycle",
      ],
      world.env,
    );
    expect(n.code, n.stdout + n.stderr).toBe(ExitCode.Ok);
    expect(readdirSync(none)).toStrictEqual([]);
    expect(n.stdout).toContain(`0 bundles in ${none}`);
  }, 120_000);
});
