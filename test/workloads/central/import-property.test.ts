/**
 * The importer's promise, as a property: take a valid bundle's decoded content, change it at
 * random (values, keys, lines, and text JSON.stringify would never write), re-sign and reseal it
 * with the environment's own key, import it. Either the database then holds exactly what the
 * bundle says, or the bundle is refused with exit code 7 and the database is unchanged. Never an
 * internal error, never part of a bundle.
 */
import { randomUUID } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BundleError } from "../../../workloads/bundle/errors.js";
import { loadKeyring, type Keyring } from "../../../workloads/bundle/keyring.js";
import type { SigningKey } from "../../../workloads/bundle/keys.js";
import { openCentralDb, type CentralDb } from "../../../workloads/central/db/connect.js";
import { migrateToLatest } from "../../../workloads/central/db/migrate.js";
import { importBundle } from "../../../workloads/central/import/import-bundle.js";
import {
  decode,
  editCycle,
  editLine,
  encode,
  pack,
  unpack,
  type Content,
} from "../../support/bundle-content.js";
import { generateAndWrite, makeKeys } from "../../support/bundles.js";
import { DB_TARGETS, fingerprint, makeDatabase } from "../../support/databases.js";
import { normalizeCycle, readStoredBundle, sortResults } from "../../support/stored-bundle.js";
import { tempDir } from "../../support/temp.js";

/**
 * Runs per database: enough to reach every kind of change, well under a minute for both on 2
 * cores (`TIERS_PROPERTY_RUNS=1000` for a longer search).
 */
const RUNS = Number(process.env.TIERS_PROPERTY_RUNS ?? 40);

type Json = Record<string, unknown>;
type Target = "results" | "events" | "samples" | "cycle" | "manifest";
type Op =
  | { kind: "set"; value: unknown }
  | { kind: "delete" }
  | { kind: "add"; key: string; value: unknown }
  | { kind: "duplicate-line" }
  | { kind: "drop-line" }
  | { kind: "text"; edit: "repeat-key" | "huge-number" | "cut" | "empty" | "raw-control" };
interface Mutation {
  readonly target: Target;
  readonly line: number;
  readonly pick: number;
  readonly op: Op;
}

const HOSTILE_STRINGS = [
  "",
  "\u0000",
  "a\u0000b",
  "\ud800",
  "x\udfff",
  "\u001b[31mred",
  "\u202eevil",
  "é€😀",
  "../x",
  "x".repeat(300),
];
const value = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: "binary", maxLength: 12 }) },
  { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(0, -0, -1, 0.5, 1e308, 2 ** 31, 2 ** 53, 2 ** 53 + 2, Number.MIN_VALUE),
  },
  { weight: 2, arbitrary: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()) },
  { weight: 1, arbitrary: fc.uuid() },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, [], {}) },
);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: value.map((v) => ({ kind: "set" as const, value: v })) },
  { weight: 2, arbitrary: fc.constant({ kind: "delete" as const }) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom("__proto__", "a\u0000", "\ud800")), value)
      .map(([key, v]) => ({ kind: "add" as const, key, value: v })),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "duplicate-line" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "drop-line" as const }) },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom("repeat-key", "huge-number", "cut", "empty", "raw-control")
      .map((edit) => ({ kind: "text" as const, edit })),
  },
);
const mutation: fc.Arbitrary<Mutation> = fc.record({
  target: fc.constantFrom<Target>("results", "results", "events", "samples", "cycle", "cycle", "manifest"),
  line: fc.nat(),
  pick: fc.nat(),
  op,
});

/** Every place in a JSON value: [parent, key] pairs, the root's children first. */
function places(root: unknown): [Json | unknown[], string | number][] {
  const out: [Json | unknown[], string | number][] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v))
      v.forEach((x, i) => {
        out.push([v, i]);
        walk(x);
      });
    else if (v !== null && typeof v === "object")
      for (const [k, x] of Object.entries(v)) {
        out.push([v as Json, k]);
        walk(x);
      }
  };
  walk(root);
  return out;
}

function editValue(root: Json, pick: number, o: Op): void {
  const all = places(root);
  if (all.length === 0) return;
  const [parent, key] = all[pick % all.length]!;
  const target = (parent as Record<string | number, unknown>)[key];
  if (o.kind === "set") (parent as Record<string | number, unknown>)[key] = o.value;
  else if (o.kind === "delete") {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key as string];
  } else if (o.kind === "add") {
    if (Array.isArray(target)) target.push(o.value);
    else if (target !== null && typeof target === "object")
      Object.defineProperty(target, o.key, {
        value: o.value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    else
      Object.defineProperty(parent, o.key, {
        value: o.value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
  }
}

function editText(text: string, edit: Extract<Op, { kind: "text" }>["edit"], pick: number): string {
  switch (edit) {
    case "repeat-key":
      return text.replace(/^\{"([^"]+)":/, '{"$1":0,"$1":');
    case "huge-number":
      return text.replace(/:(-?\d+(\.\d+)?)([,}])/, ":1e999$3");
    case "cut":
      return text.slice(0, Math.max(1, pick % Math.max(1, text.length)));
    case "empty":
      return "";
    case "raw-control":
      return text.replace(/"([^"\\]+)"/, '"$1\u0007"');
  }
}

/** Structured edits of text an earlier text edit already broke are skipped (it stays broken). */
function apply(c: Content, m: Mutation): void {
  try {
    applyOne(c, m);
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
  }
}

function applyOne(c: Content, m: Mutation): void {
  if (m.target === "manifest") {
    if (m.op.kind === "text" || m.op.kind === "duplicate-line" || m.op.kind === "drop-line") return;
    // files and counts are recomputed by encode(); everything else is fair game.
    editValue(c.manifest, m.pick, m.op);
    return;
  }
  if (m.target === "cycle") {
    if (m.op.kind === "text") c.cycle = editText(c.cycle, m.op.edit, m.pick);
    else if (m.op.kind !== "duplicate-line" && m.op.kind !== "drop-line") {
      const o = m.op;
      editCycle(c, (cy) => editValue(cy, m.pick, o));
    }
    return;
  }
  const lines = c[m.target];
  if (lines.length === 0) return;
  const i = m.line % lines.length;
  if (m.op.kind === "duplicate-line") lines.splice(i, 0, lines[i]!);
  else if (m.op.kind === "drop-line") lines.splice(i, 1);
  else if (m.op.kind === "text") lines[i] = editText(lines[i]!, m.op.edit, m.pick);
  else {
    const o = m.op;
    editLine(lines, i, (v) => editValue(v, m.pick, o));
  }
}

/** A fresh identity per run, so every accepted bundle is new to the database. */
function freshIdentity(c: Content, n: number): void {
  const cycleId = `prop-${n}`;
  const env = `e${n}`;
  c.manifest.bundle_id = randomUUID();
  c.manifest.cycle_id = cycleId;
  c.manifest.environment = env;
  editCycle(c, (cy) => {
    cy.cycle_id = cycleId;
    (cy.environment as Json).id = env;
  });
  c.results.forEach((_, i) =>
    editLine(c.results, i, (r) => {
      r.cycle_id = cycleId;
      r.environment = env;
      r.result_id = randomUUID();
    }),
  );
}

const parseAll = (lines: readonly string[]) => lines.map((l) => JSON.parse(l) as Json);

let dir: Awaited<ReturnType<typeof tempDir>>;
let key: SigningKey;
let keyring: Keyring;
let baseEntries: Awaited<ReturnType<typeof unpack>>;
let runs = 0;

beforeAll(async () => {
  dir = await tempDir();
  const keys = await makeKeys(dir.path);
  key = keys.key;
  keyring = await loadKeyring(keys.keyringPath);
  const w = await generateAndWrite(
    { tier: "chaos", cycleId: "c-prop", timeScale: 0.005 },
    key,
    join(dir.path, "base"),
  );
  baseEntries = await unpack(w.path);
  await mkdir(join(dir.path, "runs"));
});
afterAll(() => dir?.remove());

describe.each(DB_TARGETS)("a mutated, re-signed bundle on %s", (target) => {
  let database: Awaited<ReturnType<typeof makeDatabase>>;
  let cdb: CentralDb;
  const outcomes = { imported: 0, refused: 0 };

  beforeAll(async () => {
    database = await makeDatabase(target, dir.path);
    cdb = await openCentralDb(database.url, { create: true });
    await migrateToLatest(cdb);
  });
  afterAll(async () => {
    await cdb?.close();
    await database?.drop();
  });

  it("is stored exactly as it says, or refused with exit code 7 and nothing written", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (mutations) => {
        const n = ++runs;
        const c = decode(baseEntries.map((e) => ({ ...e })));
        freshIdentity(c, n);
        for (const m of mutations) apply(c, m);
        const entries = encode(c, key);
        const file = await pack(join(dir.path, "runs"), `run-${n}.tar.gz`, entries, key);
        const before = await fingerprint(cdb);
        let outcome;
        try {
          outcome = await importBundle(cdb, file, { keyring });
        } catch (error) {
          // Anything but a refusal is a bug: exit 1, the very thing this property rules out.
          if (!(error instanceof BundleError)) throw error;
          expect(error.exitCode).toBe(7);
          expect(await fingerprint(cdb)).toStrictEqual(before);
          outcomes.refused++;
          return;
        }
        expect(outcome.status).toBe("imported");
        outcomes.imported++;
        const stored = await readStoredBundle(cdb, outcome.bundleId);
        const sent = entries.find((e) => e.path === "manifest.json")!.data.toString();
        expect(stored.manifest).toBe(sent);
        expect(stored.cycle).toStrictEqual(normalizeCycle(JSON.parse(c.cycle) as Json));
        expect(stored.results).toStrictEqual(sortResults(parseAll(c.results)));
        expect(stored.events).toStrictEqual(JSON.parse(JSON.stringify(parseAll(c.events))));
        expect(stored.samples).toStrictEqual(JSON.parse(JSON.stringify(parseAll(c.samples))));
      }),
      { numRuns: RUNS },
    );
    // The property saw both sides: bundles it had to store and bundles it had to refuse.
    expect(outcomes.imported).toBeGreaterThan(0);
    expect(outcomes.refused).toBeGreaterThan(0);
  });
});
