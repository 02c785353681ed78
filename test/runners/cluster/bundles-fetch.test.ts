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
});
