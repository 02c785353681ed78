/**
 * Hostile content under a valid signature and seal: the environment's key signs whatever it is
 * given, so each of these is what a compromised or buggy environment could send. Built by editing
 * the decoded content of a valid bundle and re-encoding it (sizes, checksums, counts, signature and
 * seal all recomputed), unless the case is about those.
 */
import { createHash, randomUUID } from "node:crypto";
import type { BundleRefusal } from "../../workloads/bundle/errors.js";
import { TRACES_FILE } from "../../workloads/bundle/layout.js";
import type { CycleEvent, CycleSummary } from "../../workloads/shared/cycle.js";
import type { Result } from "../../workloads/shared/result.js";
import { SPAN_BOUNDS, SpanRecord } from "../../workloads/shared/trace.js";
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

const hex = (digits: number, seed: string) =>
  createHash("sha256").update(seed).digest("hex").slice(0, digits);
const micros = (iso: string) => Date.parse(iso) * 1000;

/**
 * Valid spans of the content's cycle, shaped as the orchestrator's offline exporter writes them:
 * line 1 the cycle span, then a span per phase that ran (its fault events as span events), then a
 * span per result under its phase. The cycle span sits at every `SPAN_BOUNDS` (name, attributes,
 * key and value length, events), so a case one past a bound edits line 1 and nothing else, and
 * holds what the string policy lets through and the centre must store as it is (a tab and an
 * escape in its name and an attribute, astral characters); only NUL and lone surrogates are refused.
 */
export function spansOf(c: Content): SpanRecord[] {
  const cycle = JSON.parse(c.cycle) as CycleSummary;
  const events = c.events.map((l) => JSON.parse(l) as CycleEvent);
  const id = (what: string) => hex(16, `${cycle.cycle_id}/${what}`);
  const common = { trace_id: hex(32, `trace/${cycle.cycle_id}`), cycle_id: cycle.cycle_id };
  const start = micros(cycle.started_at);
  const attributes: SpanRecord["attributes"] = {
    "tiers.span_kind": "cycle",
    "tiers.cycle_id": cycle.cycle_id,
    "tiers.note": "tab\there, escape \u001b[0m, astral \u{1f680}",
    [`k${"x".repeat(SPAN_BOUNDS.attributeKeyChars - 1)}`]: "a key at the bound",
    "tiers.long": "v".repeat(SPAN_BOUNDS.attributeValueChars),
  };
  for (let i = 0; Object.keys(attributes).length < SPAN_BOUNDS.attributes; i++)
    attributes[`tiers.extra.${i}`] = i % 2 === 0 ? i : i % 3 === 0;
  const spans: SpanRecord[] = [
    {
      ...common,
      span_id: id("cycle"),
      parent_span_id: null,
      name: `cycle ${cycle.cycle_id}\t\u001b[0m `.padEnd(SPAN_BOUNDS.nameChars, "."),
      kind: "cycle",
      phase: null,
      start_us: start,
      end_us: cycle.ended_at === null ? start : micros(cycle.ended_at),
      status: { code: "ok" },
      attributes,
      events: Array.from({ length: SPAN_BOUNDS.events }, (_, i) => ({
        name: `mark ${i}`,
        time_us: start + i,
        attributes: { i },
      })),
    },
  ];
  const phaseSpans = new Map<string, string>();
  for (const p of cycle.phases) {
    if (p.started_at === null) continue;
    phaseSpans.set(p.name, id(`phase/${p.name}`));
    spans.push({
      ...common,
      span_id: id(`phase/${p.name}`),
      parent_span_id: id("cycle"),
      name: `phase ${p.name}`,
      kind: "phase",
      phase: p.name,
      start_us: micros(p.started_at),
      end_us: micros(p.ended_at ?? p.started_at),
      status: p.status === "aborted" ? { code: "error", message: "aborted" } : { code: "ok" },
      attributes: { "tiers.span_kind": "phase", "tiers.cycle_id": cycle.cycle_id, "tiers.phase": p.name },
      events: events
        .filter((e) => e.phase === p.name && e.kind.startsWith("fault."))
        .map((e) => ({
          name: e.kind,
          time_us: e.ts_ms * 1000,
          attributes: Object.fromEntries(e.scenario === undefined ? [] : [["tiers.scenario", e.scenario]]),
        })),
    });
  }
  for (const line of c.results) {
    const r = JSON.parse(line) as Result;
    const parent = phaseSpans.get(r.phase);
    if (parent === undefined) continue;
    spans.push({
      ...common,
      span_id: id(`result/${r.result_id}`),
      parent_span_id: parent,
      name: `test ${r.test_name}`.slice(0, SPAN_BOUNDS.nameChars),
      kind: "test",
      phase: r.phase,
      start_us: micros(r.timings.started_at),
      end_us: micros(r.timings.ended_at),
      status:
        r.status === "failed"
          ? { code: "error", message: (r.reason ?? "failed").slice(0, SPAN_BOUNDS.attributeValueChars) }
          : { code: "unset" },
      attributes: {
        "tiers.span_kind": "test",
        "tiers.test_id": r.test_id,
        "tiers.tool": r.tool.name,
        "tiers.attempt": r.attempt,
      },
      events: [],
    });
  }
  // Every one valid as it stands: a case refused is refused for its own edit.
  return spans.map((x) => SpanRecord.parse(x));
}

/** Gives the content a traces.ndjson of valid spans (`spansOf`). */
function addTraces(c: Content): string[] {
  c.traces = spansOf(c).map((x) => JSON.stringify(x));
  return c.traces;
}

/**
 * A case that adds valid traces, then `change`s them; its refusal must name `line` of
 * traces.ndjson (1-based; line 1 is the cycle span at every bound, line 2 the first phase span).
 */
function traced(
  name: string,
  reason: BundleRefusal,
  line: number,
  change: (traces: string[], c: Content) => void,
  options: ContentOptions = {},
): HostileCase {
  return content(name, reason, (c) => change(addTraces(c), c), {
    mentions: `${TRACES_FILE}:${line}`,
    ...options,
  });
}
/** Edits span line `line` (1-based, as `traced` counts) as an object. */
const editSpan = (traces: string[], line: number, edit: (span: Json) => void) =>
  editLine(traces, line - 1, edit);
const eventsOf = (span: Json) => span.events as Json[];

/**
 * The base's content with a valid traces.ndjson under a fresh identity (cycle, bundle and result
 * ids), so it imports next to the base and the stored bundle: the trace cases' starting point,
 * accepted.
 */
export async function writeTracedBundle(base: BaseBundle, out: string): Promise<string> {
  const c = decode(await unpack(base.path));
  c.manifest.bundle_id = randomUUID();
  renameCycle(c, "c-traced");
  c.results.forEach((_, i) => editLine(c.results, i, (r) => (r.result_id = randomUUID())));
  addTraces(c);
  return packTo(out, encode(c, base.key), base.key);
}

const TRACES: HostileCase[] = [
  traced("a span id twice in traces.ndjson", "malformed_content", 3, (t) =>
    editSpan(t, 3, (s) => (s.span_id = (JSON.parse(t[1]!) as Json).span_id)),
  ),
  traced("a span that is its own parent", "malformed_content", 2, (t) =>
    editSpan(t, 2, (s) => (s.parent_span_id = s.span_id)),
  ),
  traced("a span that ends before it starts", "malformed_content", 1, (t) =>
    editSpan(t, 1, (s) => (s.end_us = (s.start_us as number) - 1)),
  ),
  traced("a span naming another cycle", "cycle_mismatch", 2, (t) =>
    editSpan(t, 2, (s) => (s.cycle_id = "c-elsewhere")),
  ),
  traced("a trace id of all zeros", "malformed_content", 2, (t) =>
    editSpan(t, 2, (s) => (s.trace_id = "0".repeat(32))),
  ),
  traced("a trace id one hex digit short", "malformed_content", 2, (t) =>
    editSpan(t, 2, (s) => (s.trace_id = (s.trace_id as string).slice(1))),
  ),
  traced("a trace id in capitals", "malformed_content", 2, (t) =>
    editSpan(t, 2, (s) => (s.trace_id = `ABCDEF${(s.trace_id as string).slice(6)}`)),
  ),
  traced("a parent span id of all zeros", "malformed_content", 2, (t) =>
    editSpan(t, 2, (s) => (s.parent_span_id = "0".repeat(16))),
  ),
  traced("an unknown span kind", "malformed_content", 2, (t) => editSpan(t, 2, (s) => (s.kind = "internal"))),
  traced("a span of a phase that does not exist", "malformed_content", 2, (t) =>
    editSpan(t, 2, (s) => (s.phase = "warp")),
  ),
  traced("a span status code OpenTelemetry does not have", "malformed_content", 2, (t) =>
    editSpan(t, 2, (s) => (s.status = { code: "fatal" })),
  ),
  traced("a span name one past SPAN_BOUNDS.nameChars", "malformed_content", 1, (t) =>
    editSpan(t, 1, (s) => (s.name = `${s.name as string}x`)),
  ),
  traced("a span attribute value one past SPAN_BOUNDS.attributeValueChars", "malformed_content", 1, (t) =>
    editSpan(t, 1, (s) => {
      const a = s.attributes as Record<string, string>;
      a["tiers.long"] = `${a["tiers.long"]!}v`;
    }),
  ),
  traced("a span attribute name one past SPAN_BOUNDS.attributeKeyChars", "malformed_content", 1, (t) =>
    editSpan(t, 1, (s) => {
      const a = s.attributes as Json;
      const key = Object.keys(a).find((k) => k.length === SPAN_BOUNDS.attributeKeyChars)!;
      a[`${key}x`] = a[key];
      delete a[key];
    }),
  ),
  traced("one span attribute more than SPAN_BOUNDS.attributes", "malformed_content", 1, (t) =>
    editSpan(t, 1, (s) => ((s.attributes as Json)["tiers.one_more"] = true)),
  ),
  traced("one span event more than SPAN_BOUNDS.events", "malformed_content", 1, (t) =>
    editSpan(t, 1, (s) => eventsOf(s).push(eventsOf(s)[0]!)),
  ),
  traced("a span event attribute value past the bound", "malformed_content", 1, (t) =>
    editSpan(
      t,
      1,
      (s) => ((eventsOf(s)[0]!.attributes as Json).i = "v".repeat(SPAN_BOUNDS.attributeValueChars + 1)),
    ),
  ),
  traced("a span status message past the bound", "malformed_content", 2, (t) =>
    editSpan(
      t,
      2,
      (s) => (s.status = { code: "error", message: "m".repeat(SPAN_BOUNDS.attributeValueChars + 1) }),
    ),
  ),
  traced("a fractional span start time", "malformed_content", 2, (t) =>
    editSpan(t, 2, (s) => (s.start_us = (s.start_us as number) + 0.5)),
  ),
  traced("a span end time beyond 2^53", "malformed_content", 2, (t) =>
    replaceIn(t, 1, /"end_us":\d+/.exec(t[1]!)![0], `"end_us":${2n ** 53n + 1n}`),
  ),
  traced("NUL in a span name", "malformed_content", 2, (t) =>
    editSpan(t, 2, (s) => (s.name = "phase\u0000x")),
  ),
  traced("an unpaired surrogate in a span name", "malformed_content", 2, (t) =>
    editSpan(t, 2, (s) => (s.name = "phase \ud800")),
  ),
  traced("NUL in a span attribute name", "malformed_content", 2, (t) =>
    editSpan(t, 2, (s) => ((s.attributes as Json)["tiers.\u0000x"] = 1)),
  ),
  traced("an unpaired surrogate in a span event name", "malformed_content", 1, (t) =>
    editSpan(t, 1, (s) => (eventsOf(s)[0]!.name = "\udc00")),
  ),
  traced("a __proto__ key in span attributes", "malformed_content", 2, (t) =>
    replaceIn(t, 1, '"attributes":{', '"attributes":{"__proto__":{"polluted":true},'),
  ),
  traced("a span line that is not JSON", "malformed_content", 2, (t) => (t[1] = t[1]!.slice(0, -3))),
  traced("a repeated key in a span line", "malformed_content", 2, (t) =>
    replaceIn(t, 1, '"name":', '"name":"cycle","name":'),
  ),
  traced("an empty line in traces.ndjson", "malformed_content", 2, (t) => t.splice(1, 0, "")),
  traced("an unknown key in a span", "malformed_content", 2, (t) =>
    editSpan(t, 2, (s) => (s.injected = true)),
  ),
  traced("an unknown key in a span's status", "malformed_content", 2, (t) =>
    editSpan(t, 2, (s) => ((s.status as Json).injected = true)),
  ),
  traced("an unknown key in a span event", "malformed_content", 1, (t) =>
    editSpan(t, 1, (s) => (eventsOf(s)[0]!.injected = true)),
  ),
  // The cycle span holds an attribute value of the bound's length, so its line is longer.
  traced("a traces.ndjson line over the line bound", "malformed_content", 1, () => undefined, {
    limits: { maxLineBytes: SPAN_BOUNDS.attributeValueChars },
  }),
  traced(
    "manifest counts one span more than traces.ndjson has",
    "count_mismatch",
    0,
    (t, c) => (c.manifest.counts = { ...(c.manifest.counts as Json), traces: t.length + 1 }),
    { keepCounts: true, mentions: `${TRACES_FILE} has` },
  ),
  traced("traces.ndjson listed without counts.traces", "malformed_content", 0, () => undefined, {
    keepCounts: true,
    mentions: `lists ${TRACES_FILE} but has no counts.traces`,
  }),
  content(
    "counts.traces without traces.ndjson",
    "missing_file",
    (c) => (c.manifest.counts = { ...(c.manifest.counts as Json), traces: 1 }),
    { keepCounts: true, mentions: `counts.traces is given but ${TRACES_FILE}` },
  ),
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
  ...TRACES,
  ...STORED,
];
