/**
 * Hostile content under a valid signature and seal: the environment's key signs whatever it is
 * given, so each of these is what a compromised or buggy environment could send. Built by editing
 * the decoded content of a valid bundle and re-encoding it (sizes, checksums, counts, signature and
 * seal all recomputed), unless the case is about those.
 */
import { randomUUID } from "node:crypto";
import type { BundleRefusal } from "../../workloads/bundle/errors.js";
import { decode, editCycle, editLine, encode, packTo, unpack, type Content } from "./bundle-content.js";
import { hostileCase, type BaseBundle, type HostileCase } from "./hostile-bundles.js";

interface ContentOptions extends Partial<HostileCase> {
  readonly keepCounts?: boolean;
  /** Edits manifest.json's text after it is serialised (for what JSON.stringify cannot write). */
  readonly manifestText?: (json: string) => string;
  /** Start from the bundle already stored instead of the base. */
  readonly fromStored?: boolean;
}

function content(
  name: string,
  reason: BundleRefusal,
  change: (c: Content, base: BaseBundle) => void,
  { keepCounts, manifestText, fromStored, ...extra }: ContentOptions = {},
): HostileCase {
  return hostileCase(
    name,
    reason,
    async (base, out) => {
      const c = decode(await unpack(fromStored ? base.stored : base.path));
      change(c, base);
      const entries = encode(c, base.key, {
        ...(keepCounts ? { keepCounts } : {}),
        ...(manifestText ? { manifestText } : {}),
      });
      await packTo(out, entries, base.key);
    },
    extra,
  );
}

type Json = Record<string, unknown>;
const phases = (cycle: Json) => cycle.phases as Json[];
const rulesOf = (phase: Json) => (phase.gate as { rules: Json[] }).rules;
const withChecks = (c: Content) =>
  c.results.findIndex(
    (l) => Object.keys((JSON.parse(l) as { validation: { checks: Json } }).validation.checks).length > 0,
  );
/** Replaces the first occurrence of `from` in a line with `to` (for text JSON.stringify cannot produce). */
const replaceIn = (ls: string[], i: number, from: string, to: string) => {
  if (!ls[i]!.includes(from)) throw new Error(`line ${i} has no ${from}`);
  ls[i] = ls[i]!.replace(from, to);
};
/** Renames the cycle everywhere it appears, consistently. */
function renameCycle(c: Content, id: string): void {
  c.manifest.cycle_id = id;
  editCycle(c, (cy) => (cy.cycle_id = id));
  c.results.forEach((_, i) => editLine(c.results, i, (r) => (r.cycle_id = id)));
}
function renameEnvironment(c: Content, id: string): void {
  c.manifest.environment = id;
  editCycle(c, (cy) => ((cy.environment as Json).id = id));
  c.results.forEach((_, i) => editLine(c.results, i, (r) => (r.environment = id)));
}

const DUPLICATES: HostileCase[] = [
  content("a phase twice in cycle.json", "malformed_content", (c) =>
    editCycle(c, (cy) => {
      const p = phases(cy);
      p.push({ ...p[1]!, gate: { verdict: "passed", rules: [] } });
    }),
  ),
  content("a gate rule id in two phases", "malformed_content", (c) =>
    editCycle(c, (cy) => {
      const p = phases(cy);
      rulesOf(p[2]!)[0]!.id = rulesOf(p[1]!)[0]!.id;
    }),
  ),
  content("a gate rule id twice in one phase", "malformed_content", (c) =>
    editCycle(c, (cy) => {
      const r = rulesOf(phases(cy)[1]!);
      r.push({ ...r[0]! });
    }),
  ),
  content("the same result line twice", "malformed_content", (c) => c.results.push(c.results[0]!)),
  content("two results of one test under different ids", "malformed_content", (c) => {
    c.results.push(c.results[0]!);
    editLine(c.results, c.results.length - 1, (r) => (r.result_id = randomUUID()));
  }),
  content("a contract check twice in one result (a repeated JSON key)", "malformed_content", (c) => {
    const i = withChecks(c);
    const m = /"checks":\{("[^"]+":"(passed|failed)")/.exec(c.results[i]!)!;
    replaceIn(c.results, i, m[0], `${m[0]},${m[1]!.replace(/"(passed|failed)"$/, '"failed"')}`);
  }),
  content("a metric twice in one result (a repeated JSON key)", "malformed_content", (c) =>
    replaceIn(c.results, 0, '"metrics":{', '"metrics":{"bogo_ops":{"value":1},'),
  ),
  content("a repeated key in a sample line", "malformed_content", (c) =>
    replaceIn(c.samples, 3, '"value":', '"value":7,"value":'),
  ),
  content("a repeated key in cycle.json", "malformed_content", (c) => {
    c.cycle = c.cycle.replace('"tier":', '"tier": "base",\n  "tier":');
  }),
  content("a repeated key in manifest.json", "malformed_manifest", () => undefined, {
    manifestText: (t) => t.replace('"tier":', '"tier": "base",\n  "tier":'),
  }),
  content("a sample series named like a result metric of its phase", "malformed_content", (c) => {
    const r = JSON.parse(c.results[0]!) as { test_name: string; phase: string; metrics: Json };
    const metric = Object.keys(r.metrics)[0]!;
    c.samples.push(
      JSON.stringify({ ts_ms: 1, phase: r.phase, series: `${r.test_name}:${metric}`, value: 1 }),
    );
  }),
];

const TIMES: HostileCase[] = [
  content("a result that ends before it starts", "malformed_content", (c) =>
    editLine(c.results, 2, (r) => {
      const t = r.timings as { started_at: string; ended_at: string };
      [t.started_at, t.ended_at] = [t.ended_at, t.started_at];
    }),
  ),
  content("a phase that ends before it starts", "malformed_content", (c) =>
    editCycle(c, (cy) => {
      const p = phases(cy)[2]!;
      [p.started_at, p.ended_at] = [p.ended_at, p.started_at];
    }),
  ),
  content("a cycle that ends before it starts", "malformed_content", (c) =>
    editCycle(c, (cy) => (cy.ended_at = "2000-01-01T00:00:00.000Z")),
  ),
];

const IDS: HostileCase[] = [
  content("a cycle id with an escape sequence", "malformed_content", (c) => renameCycle(c, "c\u001b[2Jx")),
  content("a cycle id that climbs out of a directory", "malformed_content", (c) => renameCycle(c, "../../x")),
  content("a cycle id of 81 characters", "malformed_content", (c) => renameCycle(c, `c${"x".repeat(80)}`)),
  content("an environment id in capitals with a space", "malformed_content", (c) =>
    renameEnvironment(c, "Env 1"),
  ),
  content("an environment id with a bidi override", "malformed_content", (c) =>
    renameEnvironment(c, "env-\u202e1"),
  ),
  content("a result id that is not a uuid", "malformed_content", (c) =>
    editLine(c.results, 0, (r) => (r.result_id = "result-1")),
  ),
  content("a bundle id that is not a uuid", "malformed_manifest", (c) => (c.manifest.bundle_id = "bundle-1")),
];

const LAYOUT: HostileCase[] = [
  content("a listed file outside the layout", "malformed_content", (c) =>
    c.files.set("notes.txt", Buffer.from("hello")),
  ),
  content("a listed raw file in a subdirectory", "malformed_content", (c) =>
    c.files.set("raw/deeper/x.stdout", Buffer.from("x")),
  ),
  content("a listed ndjson file in a directory of its own", "malformed_content", (c) =>
    c.files.set("extra/results.ndjson", Buffer.from("")),
  ),
];

const STRINGS: HostileCase[] = [
  content("NUL in a result's test name", "malformed_content", (c) =>
    editLine(c.results, 1, (r) => (r.test_name = "cpu\u0000headroom")),
  ),
  content("NUL in an event kind", "malformed_content", (c) =>
    editLine(c.events, 1, (e) => (e.kind = "phase.\u0000started")),
  ),
  content("NUL in a sample series", "malformed_content", (c) =>
    editLine(c.samples, 4, (s) => (s.series = "load.\u0000rps")),
  ),
  content("NUL in a metric name", "malformed_content", (c) =>
    editLine(c.results, 0, (r) => ((r.metrics as Json)["x\u0000y"] = { value: 1 })),
  ),
  content("NUL in the environment's name in cycle.json", "malformed_content", (c) =>
    editCycle(c, (cy) => ((cy.environment as Json).name = "env\u0000one")),
  ),
  content("NUL in a tool version in the manifest", "malformed_manifest", (c) => {
    (c.manifest.tools as Json[])[0]!.version = "3.\u000033";
  }),
  content("an unpaired surrogate in a result's reason", "malformed_content", (c) =>
    editLine(c.results, 0, (r) => (r.reason = "broken \ud800 text")),
  ),
  content("an unpaired surrogate in a parameter's name", "malformed_content", (c) =>
    editLine(c.results, 0, (r) => ((r.parameters as Json)["\udc00x"] = 1)),
  ),
  content("an unpaired surrogate in an event detail", "malformed_content", (c) =>
    editLine(c.events, 0, (e) => ((e.detail as Json).note = "\udbff")),
  ),
];

const NUMBERS: HostileCase[] = [
  content("a parameter of 1e999 (JSON.parse reads Infinity)", "malformed_content", (c) =>
    replaceIn(c.results, 0, '"parameters":{', '"parameters":{"huge":1e999,'),
  ),
  content("an event detail of -1e400", "malformed_content", (c) =>
    replaceIn(c.events, 0, '"detail":{', '"detail":{"x":-1e400,'),
  ),
  content("an exit code beyond 32 bits", "malformed_content", (c) =>
    editLine(c.results, 0, (r) => (r.exit_code = 2 ** 40)),
  ),
  content("an attempt beyond 32 bits", "malformed_content", (c) =>
    editLine(c.results, 0, (r) => (r.attempt = 2 ** 31)),
  ),
  content("a phase index beyond 32 bits", "malformed_content", (c) =>
    editCycle(c, (cy) => (phases(cy)[0]!.index = 2 ** 40)),
  ),
  content(
    "manifest counts beyond 32 bits",
    "malformed_content",
    (c) => {
      (c.manifest.counts as Json).samples = 2 ** 33;
    },
    { keepCounts: true },
  ),
  content("a sample timestamp beyond 2^53", "malformed_content", (c) => {
    c.samples[2] = c.samples[2]!.replace(/"ts_ms":\d+/, '"ts_ms":9007199254740993');
  }),
];

const STRUCTURE: HostileCase[] = [
  content("a __proto__ key in a result's parameters", "malformed_content", (c) =>
    replaceIn(c.results, 0, '"parameters":{', '"parameters":{"__proto__":{"polluted":true},'),
  ),
  content("an event detail nested 40 levels deep", "malformed_content", (c) =>
    editLine(c.events, 0, (e) => {
      let v: Json = {};
      for (let i = 0; i < 40; i++) v = { v };
      e.detail = v;
    }),
  ),
  content(
    "a result line over the line bound",
    "malformed_content",
    (c) => editLine(c.results, 0, (r) => (r.reason = "x".repeat(8192))),
    { limits: { maxLineBytes: 4096 } },
  ),
  content(
    "a samples file with no newline for longer than the line bound",
    "malformed_content",
    (c) => (c.samples = [c.samples.join(" ")]),
    { limits: { maxLineBytes: 16_384 }, keepCounts: true },
  ),
  content("an empty line in events.ndjson", "malformed_content", (c) => c.events.splice(2, 0, "")),
  content("a result line that is not UTF-8", "malformed_content", (c) => {
    c.files.set(
      "results.ndjson",
      Buffer.concat([Buffer.from(c.results.join("\n")), Buffer.from([0x0a, 0xff, 0x0a])]),
    );
  }),
  content("cycle.json that is not JSON", "malformed_content", (c) => (c.cycle = "{ cycle: 1 ")),
  content("an unknown key in a result", "malformed_content", (c) =>
    editLine(c.results, 0, (r) => (r.injected = true)),
  ),
  content("an event of a phase that does not exist", "malformed_content", (c) =>
    editLine(c.events, 0, (e) => (e.phase = "warp")),
  ),
  content("a negative sample timestamp", "malformed_content", (c) =>
    editLine(c.samples, 0, (s) => (s.ts_ms = -5)),
  ),
  content("an unknown key in the manifest", "malformed_manifest", (c) => (c.manifest.extra = 1)),
  content("a bundle schema given as text", "malformed_manifest", (c) => (c.manifest.bundle_schema = "1")),
  content("a future schema version", "unsupported_schema", (c) => (c.manifest.bundle_schema = 2)),
  content(
    "manifest counts one result more than results.ndjson has",
    "count_mismatch",
    (c) => {
      (c.manifest.counts as Json).results = c.results.length + 1;
    },
    { keepCounts: true },
  ),
  content("a result naming another cycle", "cycle_mismatch", (c) =>
    editLine(c.results, 0, (r) => (r.cycle_id = "c-elsewhere")),
  ),
  content("cycle.json naming another region", "environment_mismatch", (c) =>
    editCycle(c, (cy) => ((cy.environment as Json).region = "sa-east-1")),
  ),
  content(
    "a sample line that is not JSON",
    "malformed_content",
    (c) => (c.samples[5] = c.samples[5]!.slice(0, -3)),
  ),
  content("a result pointing to a raw file that was removed", "dangling_reference", (c) => {
    const raw = [...c.files.keys()].find((p) => p.startsWith("raw/"))!;
    c.files.delete(raw);
  }),
];

/** Bundles that contradict what the database already holds (the stored bundle). */
const STORED: HostileCase[] = [
  content(
    "the stored bundle's id with other content",
    "bundle_conflict",
    (c) => editLine(c.samples, 0, (s) => (s.value = 42)),
    {
      fromStored: true,
    },
  ),
  content(
    "another bundle of the stored cycle and environment",
    "duplicate_cycle",
    (c) => (c.manifest.bundle_id = randomUUID()),
    {
      fromStored: true,
    },
  ),
  content(
    "a new cycle reusing a stored result id",
    "duplicate_result",
    (c) => {
      c.manifest.bundle_id = randomUUID();
      renameCycle(c, "c-reuse");
    },
    { fromStored: true },
  ),
  content(
    "another plan for the stored cycle",
    "cycle_mismatch",
    (c) => {
      c.manifest.bundle_id = randomUUID();
      renameEnvironment(c, "env-9");
      c.manifest.plan_hash = "0".repeat(64);
      editCycle(c, (cy) => (cy.plan_hash = "0".repeat(64)));
      c.results.forEach((_, i) => editLine(c.results, i, (r) => (r.result_id = randomUUID())));
    },
    { fromStored: true },
  ),
];

export const CONTENT_CASES: readonly HostileCase[] = [
  ...DUPLICATES,
  ...TIMES,
  ...IDS,
  ...LAYOUT,
  ...STRINGS,
  ...NUMBERS,
  ...STRUCTURE,
  ...STORED,
];
