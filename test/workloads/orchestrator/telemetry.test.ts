import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import protobuf from "protobufjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OrchestratorClient } from "../../../runners/cycle/orchestrator-client.js";
import {
  startOrchestratorProcess,
  type OrchestratorProcess,
} from "../../../runners/local/orchestrator-process.js";
import { parseKeyring } from "../../../workloads/bundle/keyring.js";
import { openBundle } from "../../../workloads/bundle/reader.js";
import { openCentralDb } from "../../../workloads/central/db/connect.js";
import { migrateToLatest } from "../../../workloads/central/db/migrate.js";
import { importBundle } from "../../../workloads/central/import/import-bundle.js";
import { keyFraction } from "../../../workloads/orchestrator/telemetry/sampler.js";
import {
  ORCHESTRATOR_METRICS,
  RUNTIME_METRICS,
  SUT_METRICS,
} from "../../../workloads/shared/metric-names.js";
import type { SpanRecord } from "../../../workloads/shared/trace.js";
import { phaseSteps } from "../../../workloads/orchestrator/controller/steps.js";
import { hashPlan } from "../../../tiers/plan/hash.js";
import type { CyclePlan } from "../../../tiers/plan/schema.js";
import { testPlan } from "../../helpers/orchestrator.js";
import { promtoolCheckMetrics } from "../../support/promtool.js";

// Three phases with different catalog log levels (INFO, INFO, DEBUG) and trace rates (0.1, 0.2, 0.5).
// Gates only warn here: on a busy machine a latency gate may abort, and these checks need every phase run.
const compiled = testPlan({ tier: "base", time_scale: "0.004", load_scale: "0.2" });
const warnOnly: CyclePlan = {
  ...compiled,
  hash: "",
  environments: compiled.environments.map((e) => ({
    ...e,
    phases: e.phases.map((p) => ({ ...p, gate: p.gate.map((r) => ({ ...r, action: "warn" as const })) })),
  })),
};
const plan: CyclePlan = { ...warnOnly, hash: hashPlan(warnOnly) };
const planEnv = plan.environments[0]!;

/**
 * A real OTLP/HTTP peer on loopback: decodes each POST body as OTLP's ExportTraceServiceRequest
 * protobuf (the fields we read, numbered as in opentelemetry-proto; protobufjs skips the rest).
 */
const OTLP_PROTO = `
syntax = "proto3";
message AnyValue { oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; } }
message KeyValue { string key = 1; AnyValue value = 2; }
message Resource { repeated KeyValue attributes = 1; }
message Event { fixed64 time_unix_nano = 1; string name = 2; repeated KeyValue attributes = 3; }
message Status { string message = 2; int32 code = 3; }
message Span {
  bytes trace_id = 1; bytes span_id = 2; bytes parent_span_id = 4; string name = 5;
  fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9; repeated Event events = 11; Status status = 15;
}
message ScopeSpans { repeated Span spans = 2; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
`;
const Request = protobuf.parse(OTLP_PROTO, { keepCase: true }).root.lookupType("ExportTraceServiceRequest");

interface ReceivedSpan {
  readonly name: string;
  readonly attributes: Record<string, unknown>;
  readonly events: string[];
  readonly resource: Record<string, unknown>;
  readonly parent: string;
}

type Kv = { key: string; value?: Record<string, unknown> };
const kvs = (list: Kv[] | undefined): Record<string, unknown> =>
  Object.fromEntries((list ?? []).map((a) => [a.key, Object.values(a.value ?? {})[0]]));

function startReceiver(): Promise<{
  server: Server;
  url: string;
  spans: ReceivedSpan[];
  contentTypes: string[];
}> {
  const spans: ReceivedSpan[] = [];
  const contentTypes: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      contentTypes.push(String(req.headers["content-type"]));
      const msg = Request.toObject(Request.decode(Buffer.concat(chunks)), {
        longs: String,
        bytes: String,
      }) as {
        resource_spans?: {
          resource?: { attributes?: Kv[] };
          scope_spans?: { spans?: Record<string, unknown>[] }[];
        }[];
      };
      for (const rs of msg.resource_spans ?? [])
        for (const ss of rs.scope_spans ?? [])
          for (const s of ss.spans ?? [])
            spans.push({
              name: s.name as string,
              attributes: kvs(s.attributes as Kv[]),
              events: ((s.events as { name: string }[] | undefined) ?? []).map((e) => e.name),
              resource: kvs(rs.resource?.attributes),
              parent: (s.parent_span_id as string | undefined) ?? "",
            });
      res.writeHead(200, { "content-type": "application/x-protobuf" });
      res.end();
    });
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      resolve({ server, url: `http://127.0.0.1:${port}/v1/traces`, spans, contentTypes });
    }),
  );
}

/** Which test ids the per-phase sampler keeps, computed from the plan (seed, environment, rate). */
function expectedSampledTests(): string[] {
  return planEnv.phases
    .flatMap((p) =>
      phaseSteps(plan, p, null)
        .filter((t) => keyFraction(`${plan.options.seed}/${planEnv.id}/${t.id}`) < p.trace_sampling)
        .map((t) => t.id),
    )
    .sort();
}

interface Started {
  readonly proc: OrchestratorProcess;
  readonly client: OrchestratorClient;
  readonly stderr: string[];
  readonly dir: string;
}

const dirs: string[] = [];
const procs: OrchestratorProcess[] = [];
async function start(env: NodeJS.ProcessEnv = {}): Promise<Started> {
  const dir = mkdtempSync(join(tmpdir(), "tiers-telemetry-"));
  dirs.push(dir);
  const token = randomBytes(24).toString("hex");
  const tokenFile = join(dir, "token");
  writeFileSync(tokenFile, token, { mode: 0o600 });
  const stderr: string[] = [];
  const proc = await startOrchestratorProcess({
    dataDir: join(dir, "data"),
    environment: planEnv.id,
    tokenFile,
    // Telemetry, not transport, is under test here: plain HTTP, asked for explicitly.
    insecureHttp: true,
    env: { ...process.env, ...env },
    onLine: (s, line) => {
      if (s === "stderr") stderr.push(line);
    },
  });
  procs.push(proc);
  return { proc, client: new OrchestratorClient(proc.url, token), stderr, dir };
}

/** Runs a cycle to its end; returns the /metrics texts scraped while it ran and the SUT's. */
async function runCycle(s: Started): Promise<{ cycleId: string; orchestrator: string; sut: string }> {
  const cycleId = await s.client.trigger(plan);
  let orchestrator = "";
  let status = await s.client.status(cycleId);
  while (status.state === "running" || status.state === "calibrating") {
    if (!orchestrator && status.phase?.name === "baseline") orchestrator = await s.client.metrics();
    await new Promise((r) => setTimeout(r, 200));
    status = await s.client.status(cycleId);
  }
  expect(status.state).toBe("completed");
  const health = (await (await fetch(`${s.proc.url}/healthz`)).json()) as { sut: string };
  const sut = await (await fetch(new URL("/metrics", health.sut))).text();
  return { cycleId, orchestrator, sut };
}

afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("orchestrator telemetry offline: metrics, logs at the phase's level, traces in the bundle and the centre", () => {
  let s: Started;
  let scraped: { cycleId: string; orchestrator: string; sut: string };
  beforeAll(async () => {
    s = await start();
    scraped = await runCycle(s);
  }, 180_000);

  it("both /metrics expositions pass promtool check metrics and carry every listed series", async () => {
    for (const [what, text] of [
      ["orchestrator", scraped.orchestrator],
      ["sut", scraped.sut],
    ] as const) {
      const checked = await promtoolCheckMetrics(text);
      expect({ what, ...checked }).toStrictEqual({ what, code: 0, out: "" });
    }
    for (const m of Object.values(ORCHESTRATOR_METRICS))
      expect(scraped.orchestrator).toContain(`# TYPE ${m.name} ${m.type}`);
    // This orchestrator generates its load in its own process (load_workers: 0): its loop and GC.
    for (const [name, type] of Object.entries(RUNTIME_METRICS))
      expect(scraped.orchestrator).toContain(`# TYPE ${name} ${type}`);
    for (const m of Object.values(SUT_METRICS)) expect(scraped.sut).toContain(`# TYPE ${m.name} ${m.type}`);
    expect(scraped.orchestrator).toMatch(
      new RegExp(
        `^stress_phase_progression\\{environment="${planEnv.id}",cycle="${scraped.cycleId}",phase="idle"\\} 1$`,
        "m",
      ),
    );
    expect(scraped.orchestrator).toContain(`tiers_cycle_running{environment="${planEnv.id}"} 1`);
    expect(scraped.sut).toMatch(/^sut_request_duration_seconds_bucket\{le="1",route="\/work"\} [1-9]\d*$/m);
  });

  it("keeps tiers_results_total after the cycle: every result it committed, by status", async () => {
    const after = await s.client.metrics();
    const status = await s.client.status(scraped.cycleId);
    const counted = Object.fromEntries(
      [...after.matchAll(/^tiers_results_total\{environment="([^"]+)",status="([^"]+)"\} (\S+)$/gm)].map(
        (m) => {
          expect(m[1]).toBe(planEnv.id);
          return [m[2]!, Number(m[3])];
        },
      ),
    );
    expect(after).toContain(`tiers_cycle_running{environment="${planEnv.id}"} 0`);
    expect(counted).toStrictEqual(status.results);
    expect(Object.values(counted).reduce((a, n) => a + n, 0)).toBeGreaterThan(0);
  });

  it("promtool refuses a broken exposition (the check can fail)", async () => {
    const broken = await promtoolCheckMetrics(
      "# TYPE tiers_cycles_total gauge\ntiers_cycles_total{environment=env} 1\n",
    );
    expect(broken.code).not.toBe(0);
  });

  it("logs JSON on stderr at each phase's catalog level: DEBUG records only in the DEBUG phase", () => {
    const records = s.stderr.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.length).toBeGreaterThan(0);
    const levels = new Map(planEnv.phases.map((p) => [p.name, p.log_level]));
    expect([...levels.values()]).toStrictEqual(["INFO", "INFO", "DEBUG"]);
    const inPhase = (phase: string, level: string) =>
      records.filter((r) => r.phase === phase && r.level_name === level);
    // Every phase logged at info (tests ended, phase boundaries) …
    for (const p of planEnv.phases) expect(inPhase(p.name, "info").length).toBeGreaterThan(0);
    // … and debug records (test.started) appear only in the phase whose level is DEBUG.
    expect(inPhase("light", "debug").map((r) => r.msg)).toContain("test.started");
    expect(inPhase("baseline", "debug")).toStrictEqual([]);
    expect(inPhase("idle", "debug")).toStrictEqual([]);
    expect(records.every((r) => r.environment === planEnv.id)).toBe(true);
    expect(records.find((r) => r.msg === "cycle.started")).toMatchObject({
      cycle: scraped.cycleId,
      traces: "bundle",
    });
  });

  it("puts the cycle's spans, sampled per phase, in the bundle as traces.ndjson, and the centre imports them", async () => {
    const exported = await s.client.exportBundle(scraped.cycleId);
    const path = join(s.dir, "bundle.tar.gz");
    await s.client.download(exported.bundle_id, path);
    const keyring = parseKeyring((await s.client.publicKey()).keyring_line, "GET /v1/key");
    const bundle = await openBundle(path, { keyring });
    let spans: SpanRecord[];
    try {
      expect(bundle.manifest.files.map((f) => f.path)).toContain("traces.ndjson");
      spans = await bundle.readTraces();
      expect(bundle.manifest.counts.traces).toBe(spans.length);
    } finally {
      await bundle.close();
    }
    const cycle = spans.filter((x) => x.kind === "cycle");
    const phases = spans.filter((x) => x.kind === "phase");
    const tests = spans.filter((x) => x.kind === "test");
    expect(cycle).toHaveLength(1);
    expect(phases.map((p) => p.phase).sort()).toStrictEqual(planEnv.phases.map((p) => p.name).sort());
    expect(phases.every((p) => p.parent_span_id === cycle[0]!.span_id)).toBe(true);
    expect(tests.map((t) => t.attributes["tiers.test_id"]).sort()).toStrictEqual(expectedSampledTests());
    const phaseIds = new Set(phases.map((p) => p.span_id));
    expect(tests.every((t) => phaseIds.has(t.parent_span_id!))).toBe(true);
    expect(new Set(spans.map((x) => x.trace_id)).size).toBe(1);

    const cdb = await openCentralDb(join(s.dir, "central.db"), { create: true });
    try {
      await migrateToLatest(cdb);
      expect((await importBundle(cdb, path, { keyring })).status).toBe("imported");
      const rows = await cdb.db.selectFrom("spans").select(["span_id", "kind", "phase"]).execute();
      expect(rows.map((r) => r.span_id).sort()).toStrictEqual(spans.map((x) => x.span_id).sort());
    } finally {
      await cdb.close();
    }
  });
});

describe("orchestrator traces over OTLP/HTTP when an endpoint is configured", () => {
  it("sends the cycle's spans as protobuf to a real OTLP receiver and leaves traces.ndjson out of the bundle", async () => {
    const receiver = await startReceiver();
    try {
      const s = await start({ TIERS_OTLP_ENDPOINT: receiver.url });
      const { cycleId } = await runCycle(s);
      // The batch processor is flushed at the cycle's end, before the cycle shows finished.
      const names = receiver.spans.map((x) => x.name);
      expect(names.filter((n) => n === "cycle")).toHaveLength(1);
      for (const p of planEnv.phases) expect(names).toContain(`phase ${p.name}`);
      expect(
        receiver.spans
          .filter((x) => x.name.startsWith("test "))
          .map((x) => x.attributes["tiers.test_id"])
          .sort(),
      ).toStrictEqual(expectedSampledTests());
      expect(receiver.spans.every((x) => x.resource["service.name"] === "test-tiers-orchestrator")).toBe(
        true,
      );
      expect(receiver.spans.every((x) => x.attributes["tiers.cycle_id"] === cycleId)).toBe(true);
      expect(new Set(receiver.contentTypes)).toStrictEqual(new Set(["application/x-protobuf"]));
      const exported = await s.client.exportBundle(cycleId);
      const path = join(s.dir, "bundle.tar.gz");
      await s.client.download(exported.bundle_id, path);
      const keyring = parseKeyring((await s.client.publicKey()).keyring_line, "GET /v1/key");
      const bundle = await openBundle(path, { keyring });
      try {
        expect(bundle.manifest.files.map((f) => f.path)).not.toContain("traces.ndjson");
        expect(bundle.manifest.counts.traces).toBeUndefined();
        expect(await bundle.readTraces()).toStrictEqual([]);
      } finally {
        await bundle.close();
      }
    } finally {
      receiver.server.close();
    }
  }, 180_000);
});
