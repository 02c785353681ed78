import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUNDLE_REFUSALS, BundleError } from "../../../workloads/bundle/errors.js";
import {
  formatKeyringLine,
  loadKeyring,
  parseKeyring,
  type Keyring,
} from "../../../workloads/bundle/keyring.js";
import { generateSigningKey } from "../../../workloads/bundle/keys.js";
import { openCentralDb, type CentralDb } from "../../../workloads/central/db/connect.js";
import { migrateToLatest } from "../../../workloads/central/db/migrate.js";
import { importBundle } from "../../../workloads/central/import/import-bundle.js";
import { generateAndWrite, makeKeys } from "../../support/bundles.js";
import { DB_TARGETS, fingerprint, makeDatabase } from "../../support/databases.js";
import { HOSTILE_CASES, type BaseBundle } from "../../support/hostile-bundles.js";
import { tempDir } from "../../support/temp.js";

let dir: Awaited<ReturnType<typeof tempDir>>;
let base: BaseBundle;
let keyring: Keyring;
let env2Keyring: Keyring;
let goodBundle: string;
const built = new Map<string, string>();

beforeAll(async () => {
  dir = await tempDir();
  const keys = await makeKeys(dir.path, ["env-1"]);
  keyring = await loadKeyring(keys.keyringPath);
  env2Keyring = parseKeyring(formatKeyringLine("env-2", keys.key.publicRaw), "env-2 only");
  const strangerKey = await generateSigningKey(join(dir.path, "stranger.pem"));
  // The base: a chaos cycle (faults, raw files, every file kind), small enough to rebuild 30 times.
  const w = await generateAndWrite(
    { tier: "chaos", cycleId: "c-hostile", timeScale: 0.01 },
    keys.key,
    join(dir.path, "base"),
  );
  base = { path: w.path, key: keys.key, strangerKey };
  goodBundle = (await generateAndWrite({ tier: "base", cycleId: "c-good" }, keys.key, join(dir.path, "good")))
    .path;
  for (const c of HOSTILE_CASES) built.set(c.name, await c.build(base, join(dir.path, "base")));
});
afterAll(() => dir?.remove());

it("covers at least twenty hostile bundles and names a distinct reason for most", () => {
  expect(HOSTILE_CASES.length).toBeGreaterThanOrEqual(20);
  expect(new Set(HOSTILE_CASES.map((c) => c.reason)).size).toBeGreaterThanOrEqual(25);
  for (const c of HOSTILE_CASES) expect(Object.keys(BUNDLE_REFUSALS)).toContain(c.reason);
});

describe.each(DB_TARGETS)("hostile bundles against %s", (target) => {
  let database: Awaited<ReturnType<typeof makeDatabase>>;
  let cdb: CentralDb;

  beforeAll(async () => {
    database = await makeDatabase(target, dir.path);
    cdb = await openCentralDb(database.url, { create: true });
    await migrateToLatest(cdb);
    // Something to keep: a database with one good bundle, so "unchanged" means something.
    expect((await importBundle(cdb, goodBundle, { keyring })).status).toBe("imported");
  });
  afterAll(async () => {
    await cdb?.close();
    await database?.drop();
  });

  it.each(HOSTILE_CASES.map((c) => [c.name, c] as const))(
    "refuses %s and changes nothing",
    async (_name, c) => {
      const before = await fingerprint(cdb);
      const error = await importBundle(cdb, built.get(c.name)!, {
        keyring: c.keyringFor ? env2Keyring : keyring,
        ...(c.limits ? { limits: c.limits } : {}),
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BundleError);
      const { reason, exitCode, message } = error as BundleError;
      expect([c.reason, ...(c.alsoAccept ?? [])]).toContain(reason);
      expect(exitCode).toBe(7);
      expect(message).toMatch(new RegExp(`^bundle refused \\(${reason}\\): .+`));
      expect(await fingerprint(cdb)).toStrictEqual(before);
    },
  );

  it("still imports the untouched base bundle afterwards", async () => {
    expect((await importBundle(cdb, base.path, { keyring })).status).toBe("imported");
  });
});
