/**
 * `tiers run … --central central` (issue 15): the runner hands the bundles to a central stack's S3
 * inbox, read from that stack's outputs through the Automation API (the recording `pulumi`
 * stand-in, whose `central` stack has the outputs the real central program computes under Pulumi's
 * mock runtime), and the central stack's importer — the real `tiers central import --watch s3://…
 * --reports s3://…` process, on a real S3 API server (s3rver on loopback) and a real SQLite —
 * imports them, refuses what it cannot trust, and writes the reports the runner then fetches.
 */
import { createPrivateKey, createPublicKey } from "node:crypto";
import { copyFile, readFile, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { resolveCentralChoice } from "../../../runners/cluster/central-stack.js";
import { captureStack } from "../../../runners/infra/capture.js";
import { ExitCode } from "../../../tiers/errors.js";
import { formatKeyringLine } from "../../../workloads/bundle/keyring.js";
import { rawPublicKey } from "../../../workloads/bundle/keys.js";
import { listObjects } from "../../../workloads/bundle/s3-store.js";
import { openCentralDb } from "../../../workloads/central/db/connect.js";
import { REPO_ROOT } from "../../helpers/cli.js";
import { startPulumiStandIn } from "../../support/pulumi-stand-in.js";
import { ENV_ID, runArgs, startClusterWorld, type ClusterWorld } from "../../helpers/cluster-run.js";
import { startTiers, type LocalRun } from "../../helpers/local-run.js";

let central: Record<string, unknown>;
beforeAll(async () => {
  central = (await captureStack("central", { stackFile: join(REPO_ROOT, "stacks", "Pulumi.central.yaml") }))
    .outputs as Record<string, unknown>;
}, 120_000);

let world: ClusterWorld | undefined;
let watcher: LocalRun | undefined;
afterEach(async () => {
  if (watcher && watcher.child.exitCode === null) {
    watcher.child.kill("SIGINT");
    await watcher.exited;
  }
  watcher = undefined;
  await world?.close();
  world = undefined;
});

/** The world with a deployed `central` stack (or none), its stack file in the project, its buckets in S3. */
async function centralWorld(deployed: boolean): Promise<ClusterWorld> {
  const w = await startClusterWorld({
    ...(deployed
      ? {
          stacks: {
            central: { tags: {}, resourceCount: 61, lastUpdate: new Date().toISOString(), outputs: central },
          },
        }
      : {}),
    up: [{ stdout: ["+  pulumi:pulumi:Stack test-tiers-e2e creating"] }],
  });
  await copyFile(
    join(REPO_ROOT, "stacks", "Pulumi.central.yaml"),
    join(w.projectDir, "stacks", "Pulumi.central.yaml"),
  );
  for (const b of [central.inboxBucket, central.reportsBucket] as string[])
    await w.s3.client().send(new CreateBucketCommand({ Bucket: b }));
  return w;
}

/** The central stack's importer service, as its task runs it, trusting `keyringLines`. */
async function startImporter(w: ClusterWorld, keyringLines: readonly string[]): Promise<{ db: string }> {
  const keyring = join(w.scratch, "central-keyring");
  await writeFile(keyring, `${keyringLines.join("\n")}\n`);
  const db = join(w.scratch, "central.db");
  watcher = startTiers(
    [
      "central",
      "import",
      "--watch",
      `s3://${central.inboxBucket as string}/${central.inboxPrefix as string}`,
      "--reports",
      `s3://${central.reportsBucket as string}/reports/`,
      "--keyring",
      keyring,
      "--db",
      db,
      "--poll-ms",
      "200",
    ],
    { ...w.env, TIERS_S3_FORCE_PATH_STYLE: "true" },
  );
  await watcher.waitFor(/watching s3:\/\//, 60_000);
  return { db };
}

async function environmentKeyLine(w: ClusterWorld): Promise<string> {
  const pem = await readFile(join(w.orchestrator!.dir, "data", "keys", "bundle-signing.pem"), "utf8");
  return formatKeyringLine(
    ENV_ID,
    rawPublicKey(createPublicKey(createPrivateKey(pem))),
    "e2e-1 (central stack keyring)",
  );
}

const runEnv = (w: ClusterWorld) => ({
  ...w.env,
  TIERS_S3_FORCE_PATH_STYLE: "true",
  TIERS_CENTRAL_POLL_MS: "200",
  TIERS_CENTRAL_WAIT_MS: "60000",
});

describe("tiers run --central <central stack>", () => {
  it("reads the central stack's outputs first, puts the bundle in its inbox, and reports what its importer stored", async () => {
    world = await centralWorld(true);
    const { db } = await startImporter(world, [await environmentKeyLine(world)]);
    const run = startTiers(runArgs(world, ["--central", "central"]), runEnv(world));
    const code = await run.exited;
    const out = run.output();
    expect(code, out).toBe(ExitCode.Ok);

    // The centre is reached before anything starts: the central stack's outputs come first.
    const commands = await world.commands();
    const firstInit = commands.findIndex((c) => c.startsWith("stack init "));
    expect(commands.slice(0, firstInit)).toStrictEqual([
      "version",
      "stack select --stack central",
      "stack output --json --stack central",
      "stack output --json --show-secrets --stack central",
      "version",
    ]);
    expect(commands.filter((c) => c.startsWith("destroy "))).toHaveLength(1);

    const inbox = central.inboxBucket as string;
    const cycle = /cycle (\S+), plan/.exec(out)![1]!;
    expect(out).toMatch(
      new RegExp(`${ENV_ID}: bundle [0-9a-f-]{12} put to s3://${inbox}/inbox/${ENV_ID}/${cycle}--`),
    );
    expect(out).toMatch(
      new RegExp(`${ENV_ID}: imported by the centre \\(s3://${inbox}/inbox/imported/${ENV_ID}/`),
    );
    expect(out).toContain(`1 bundle imported into central stack central (s3://${inbox}/inbox/)`);
    // The figures are the centre's: the runner's run directory holds the reports its report job wrote.
    const runDir = join(world.scratch, "out", cycle);
    const report = JSON.parse(await readFile(join(runDir, "report.json"), "utf8")) as {
      cycle: { cycle_id: string };
      environments: { environment_id: string }[];
    };
    expect(report.cycle.cycle_id).toBe(cycle);
    expect(report.environments.map((e) => e.environment_id)).toStrictEqual([ENV_ID]);
    for (const f of ["report.html", "report.md", "report.junit.xml"])
      expect(existsSync(join(runDir, f)), f).toBe(true);
    // The runner imported nothing itself: its own database was never made.
    expect(existsSync(world.env.TIERS_DB_URL!)).toBe(false);
    const cdb = await openCentralDb(db, { create: false });
    try {
      const rows = await cdb.db.selectFrom("cycles").select(["cycle_id"]).execute();
      expect(rows.map((r) => r.cycle_id)).toStrictEqual([cycle]);
    } finally {
      await cdb.close();
    }
    const left = await listObjects(world.s3.client(), inbox, "inbox/");
    expect(left.map((o) => o.key).filter((k) => !k.startsWith("inbox/imported/"))).toStrictEqual([]);
  }, 300_000);

  it("says which bundle the centre refused and why, and still tears the stack down", async () => {
    world = await centralWorld(true);
    await startImporter(world, []); // a keyring that trusts nobody
    const run = startTiers(runArgs(world, ["--central", "central"]), runEnv(world));
    const code = await run.exited;
    const out = run.output();
    expect(code, out).toBe(ExitCode.Infrastructure);
    expect(out).toMatch(new RegExp(`${ENV_ID}: refused by the centre \\(unknown_key\\) → s3://`));
    expect(out).toMatch(/FAILED \S+\.tar\.gz: bundle refused by the centre \(unknown_key\): /);
    expect(out).toContain("0 bundles imported into central stack central");
    const commands = await world.commands();
    expect(commands.filter((c) => c.startsWith("destroy "))).toHaveLength(1);
    expect(commands.at(-1)).toMatch(/^stack rm --yes base-/);
  }, 300_000);

  it("refuses to start when the central stack is not deployed, before any stack is made", async () => {
    world = await centralWorld(false);
    const run = startTiers(runArgs(world, ["--central", "central"]), runEnv(world));
    const code = await run.exited;
    const out = run.output();
    expect(code, out).toBe(ExitCode.Infrastructure);
    expect(out).toContain("central stack central: no stack named 'central' found; nothing was started");
    expect(out).not.toMatch(/at .+\.(ts|js):\d+/);
    const commands = await world.commands();
    expect(commands.some((c) => c.startsWith("stack init") || c.startsWith("up "))).toBe(false);
  }, 120_000);
});

describe("what --central names", () => {
  it("tells a central stack, an S3 inbox and a results database apart", () => {
    expect(resolveCentralChoice("stack:central-eu", REPO_ROOT, {})).toStrictEqual({
      kind: "stack",
      stack: "central-eu",
    });
    // A bare name is a stack only where this project has a central stack file of that name.
    expect(resolveCentralChoice("central", REPO_ROOT, {})).toStrictEqual({ kind: "stack", stack: "central" });
    expect(resolveCentralChoice("stress", REPO_ROOT, {})).toStrictEqual({
      kind: "database",
      location: "stress",
    });
    expect(resolveCentralChoice("results.db", REPO_ROOT, {})).toStrictEqual({
      kind: "database",
      location: "results.db",
    });
    expect(resolveCentralChoice("postgres://tiers@db:5432/results", REPO_ROOT, {}).kind).toBe("database");
    expect(
      resolveCentralChoice("s3://tiers-inbox/inbox", REPO_ROOT, {
        TIERS_REPORTS_URL: "s3://tiers-reports/reports/",
      }),
    ).toStrictEqual({
      kind: "inbox",
      inbox: { bucket: "tiers-inbox", prefix: "inbox/" },
      reports: { bucket: "tiers-reports", prefix: "reports/" },
    });
    expect(() => resolveCentralChoice("stack:../x", REPO_ROOT, {})).toThrow(
      '--central: not a stack name (got "stack:../x", expected stack:<name> of letters, digits, _ . -)',
    );
    expect(() => resolveCentralChoice("s3://UPPER/x", REPO_ROOT, {})).toThrow(
      "--central: not an S3 location",
    );
  });

  it("tiers central report --db stack:<name> opens the database the stack's outputs name", async () => {
    const pulumi = await startPulumiStandIn({
      stacks: {
        central: {
          tags: {},
          resourceCount: 61,
          lastUpdate: null,
          outputs: { ...central, databaseUrl: "/nonexistent/central-stack-results.db" },
        },
      },
    });
    try {
      const run = startTiers(["central", "report", "--db", "stack:central"], {
        ...pulumi.env,
        TIERS_PROJECT_DIR: REPO_ROOT,
      });
      const code = await run.exited;
      expect(run.output()).toContain("no results database at /nonexistent/central-stack-results.db");
      expect(code).toBe(ExitCode.InvalidConfig);
      expect(
        (await pulumi.calls()).map((a) => a.filter((x) => x !== "--non-interactive").join(" ")),
      ).toContain("stack output --json --stack central");
    } finally {
      await pulumi.close();
    }
  }, 60_000);
});
