import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUNDLE_REFUSALS, BundleError } from "../../../workloads/bundle/errors.js";
import {
  formatKeyringLine,
  loadKeyring,
  parseKeyring,
  type Keyring,
} from "../../../workloads/bundle/keyring.js";
import { generateSigningKey } from "../../../workloads/bundle/keys.js";
import { verifyBundle } from "../../../workloads/bundle/reader.js";
import { openCentralDb, type CentralDb } from "../../../workloads/central/db/connect.js";
import { migrateToLatest } from "../../../workloads/central/db/migrate.js";
import { SpanRecord } from "../../../workloads/shared/trace.js";
import { importBundle } from "../../../workloads/central/import/import-bundle.js";
import { generateAndWrite, makeKeys } from "../../support/bundles.js";
import { DB_TARGETS, fingerprint, makeDatabase } from "../../support/databases.js";
import { decode, unpack } from "../../support/bundle-content.js";
import { HOSTILE_CASES, type BaseBundle, type HostileCase } from "../../support/hostile-bundles.js";
import { writeTracedBundle } from "../../support/hostile-content.js";
import { tempDir } from "../../support/temp.js";

const CLI = join(import.meta.dirname, "..", "..", "..", "bin", "tiers.js");

let dir: Awaited<ReturnType<typeof tempDir>>;
let base: BaseBundle;
let keyring: Keyring;
let keyringPath: string;
let env2Keyring: Keyring;
let bothKeyring: Keyring;
const built = new Map<string, string>();
/** The base with a valid traces.ndjson (the trace cases' starting point) under its own identity. */
let traced: string;

const keyringOf = (c: HostileCase) => (c.keyringFor ? env2Keyring : c.trustStranger ? bothKeyring : keyring);
const optionsOf = (c: HostileCase) => ({ keyring: keyringOf(c), ...(c.limits ? { limits: c.limits } : {}) });
/** Cases that need nothing but the defaults, so the CLI sees them as the suite does. */
const plain = (c: HostileCase) => !c.limits && !c.keyringFor && !c.trustStranger;
/** Cases about what the database already holds (a bundle file alone is fine). */
const aboutStored = new Set<string>(["bundle_conflict", "duplicate_cycle", "duplicate_result"]);
const standalone = (c: HostileCase) =>
  !aboutStored.has(c.reason) && c.name !== "another plan for the stored cycle";

beforeAll(async () => {
  dir = await tempDir();
  const keys = await makeKeys(dir.path);
  keyringPath = keys.keyringPath;
  keyring = await loadKeyring(keys.keyringPath);
  env2Keyring = parseKeyring(formatKeyringLine("env-2", keys.key.publicRaw), "env-2 only");
  const strangerKey = await generateSigningKey(join(dir.path, "stranger.pem"));
  bothKeyring = parseKeyring(
    [formatKeyringLine("*", keys.key.publicRaw), formatKeyringLine("*", strangerKey.publicRaw)].join("\n"),
    "both keys",
  );
  // The base: a chaos cycle (faults, raw files, every file kind), small enough to rebuild 90 times.
  const w = await generateAndWrite(
    { tier: "chaos", cycleId: "c-hostile", timeScale: 0.01 },
    keys.key,
    join(dir.path, "base"),
  );
  const stored = (
    await generateAndWrite({ tier: "base", cycleId: "c-good" }, keys.key, join(dir.path, "good"))
  ).path;
  base = { path: w.path, stored, key: keys.key, strangerKey };
  // The plain cases in a directory of their own: the CLI imports that directory as a user would.
  await mkdir(join(dir.path, "plain"));
  await mkdir(join(dir.path, "tuned"));
  for (const c of HOSTILE_CASES)
    built.set(c.name, await c.build(base, join(dir.path, plain(c) ? "plain" : "tuned")));
  traced = await writeTracedBundle(base, join(dir.path, "traced.tar.gz"));
});
afterAll(() => dir?.remove());

it("covers at least sixty hostile bundles across the classes of refusal", () => {
  expect(HOSTILE_CASES.length).toBeGreaterThanOrEqual(60);
  expect(new Set(HOSTILE_CASES.map((c) => c.name)).size).toBe(HOSTILE_CASES.length);
  for (const c of HOSTILE_CASES) expect(Object.keys(BUNDLE_REFUSALS)).toContain(c.reason);
  // Every refusal the reader can make about a file has a case (the database ones are below too).
  expect(new Set(HOSTILE_CASES.map((c) => c.reason))).toStrictEqual(new Set(Object.keys(BUNDLE_REFUSALS)));
});

describe.each(DB_TARGETS)("hostile bundles against %s", (target) => {
  let database: Awaited<ReturnType<typeof makeDatabase>>;
  let cdb: CentralDb;

  beforeAll(async () => {
    database = await makeDatabase(target, dir.path);
    cdb = await openCentralDb(database.url, { create: true });
    await migrateToLatest(cdb);
    // Something to keep: a database with one good bundle, so "unchanged" means something.
    expect((await importBundle(cdb, base.stored, { keyring })).status).toBe("imported");
  });
  afterAll(async () => {
    await cdb?.close();
    await database?.drop();
  });

  it.each(HOSTILE_CASES.map((c) => [c.name, c] as const))(
    "refuses %s and changes nothing",
    async (_name, c) => {
      const before = await fingerprint(cdb);
      const error = await importBundle(cdb, built.get(c.name)!, optionsOf(c)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BundleError);
      const { reason, exitCode, message } = error as BundleError;
      expect([c.reason, ...(c.alsoAccept ?? [])]).toContain(reason);
      expect(exitCode).toBe(7);
      expect(message).toMatch(new RegExp(`^bundle refused \\(${reason}\\): .+`));
      if (c.mentions !== undefined) expect(message).toContain(c.mentions);
      // eslint-disable-next-line no-control-regex -- no control character reaches a terminal
      expect(message).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e]/);
      expect(await fingerprint(cdb)).toStrictEqual(before);
    },
  );

  it("still imports the untouched base bundle afterwards, and the stored one again is a no-op", async () => {
    expect((await importBundle(cdb, base.path, { keyring })).status).toBe("imported");
    const before = await fingerprint(cdb);
    expect((await importBundle(cdb, base.stored, { keyring })).status).toBe("already_imported");
    expect(await fingerprint(cdb)).toStrictEqual(before);
  });

  it("imports a bundle with a valid traces.ndjson and stores each of its spans exactly", async () => {
    const file = decode(await unpack(traced)).traces!.map((l) => SpanRecord.parse(JSON.parse(l)));
    expect(new Set(file.map((s) => s.kind))).toStrictEqual(new Set(["cycle", "phase", "test"]));
    const outcome = await importBundle(cdb, traced, { keyring });
    expect(outcome.status).toBe("imported");
    const rows = await cdb.db
      .selectFrom("spans")
      .innerJoin("bundles", "bundles.bundle_key", "spans.bundle_key")
      .selectAll("spans")
      .select("bundles.cycle_id")
      .where("bundles.bundle_id", "=", outcome.bundleId)
      .execute();
    const stored = rows.map((r): SpanRecord => ({
      trace_id: r.trace_id,
      span_id: r.span_id,
      parent_span_id: r.parent_span_id,
      name: r.name,
      kind: r.kind as SpanRecord["kind"],
      cycle_id: r.cycle_id,
      phase: r.phase as SpanRecord["phase"],
      start_us: r.start_us,
      end_us: r.end_us,
      status: {
        code: r.status_code as SpanRecord["status"]["code"],
        ...(r.status_message === null ? {} : { message: r.status_message }),
      },
      attributes: JSON.parse(r.attributes) as SpanRecord["attributes"],
      events: JSON.parse(r.events) as SpanRecord["events"],
    }));
    const bySpan = (a: SpanRecord, b: SpanRecord) => a.span_id.localeCompare(b.span_id);
    expect(stored.sort(bySpan)).toStrictEqual([...file].sort(bySpan));
    const before = await fingerprint(cdb);
    expect((await importBundle(cdb, traced, { keyring })).status).toBe("already_imported");
    expect(await fingerprint(cdb)).toStrictEqual(before);
  });

  it("refuses every plain case through the CLI with exit code 7, one line each, no stack trace", async () => {
    const cases = HOSTILE_CASES.filter(plain);
    const run = await execa(
      process.execPath,
      [CLI, "central", "import", join(dir.path, "plain"), "--db", database.url, "--keyring", keyringPath],
      { reject: false, cwd: dir.path },
    );
    expect(run.stderr).toBe(
      `error: ${cases.length} of ${cases.length} bundles refused; nothing of them was stored`,
    );
    expect(run.exitCode).toBe(7);
    const refused = run.stdout.split("\n").filter((l) => l.startsWith("refused   "));
    expect(refused).toHaveLength(cases.length);
    expect(run.stderr).toBe(
      `error: ${cases.length} of ${cases.length} bundles refused; nothing of them was stored`,
    );
    expect(run.stdout).not.toMatch(/internal error|\n\s+at /);
  });
});

describe("orchestrator verify-bundle's checks are the importer's", () => {
  it.each(HOSTILE_CASES.filter(standalone).map((c) => [c.name, c] as const))(
    "verify-bundle refuses %s for the same reason",
    async (_name, c) => {
      const error = await verifyBundle(built.get(c.name)!, optionsOf(c)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BundleError);
      expect([c.reason, ...(c.alsoAccept ?? [])]).toContain((error as BundleError).reason);
      if (c.mentions !== undefined) expect((error as BundleError).message).toContain(c.mentions);
    },
  );

  it("verify-bundle accepts the traced bundle the trace cases are variations of", async () => {
    const manifest = await verifyBundle(traced, { keyring });
    expect(manifest.counts.traces).toBe(decode(await unpack(traced)).traces!.length);
  });
});
