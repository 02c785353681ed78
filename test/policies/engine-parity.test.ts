/**
 * The pack as Pulumi runs it, against the offline check. Pulumi's own Node policy-pack loader
 * (`@pulumi/pulumi/cmd/run-policy-pack`, what the Node language host starts for
 * `pulumi preview --policy-pack policies`, with the pack directory as working directory) loads
 * policies/ through pack.cjs; `@pulumi/policy`'s analyzer then serves gRPC on 127.0.0.1. This test
 * talks to it as the engine does (GetAnalyzerInfo, Configure, Analyze per resource, AnalyzeStack)
 * and requires the same violations, word for word, as `checkGraph` finds in the same graphs.
 * Not exercised: the Pulumi CLI and language host themselves (not installable here).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import type * as AnalyzerGrpcModule from "@pulumi/pulumi/proto/analyzer_grpc_pb.js";
import type * as AnalyzerPbModule from "@pulumi/pulumi/proto/analyzer_pb.js";
import type * as EmptyPbModule from "google-protobuf/google/protobuf/empty_pb.js";
import type * as StructPbModule from "google-protobuf/google/protobuf/struct_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isStackPolicy, POLICIES, POLICY_PACK_NAME } from "../../policies/policies.js";
import { captureStack } from "../../runners/infra/capture.js";
import type { CapturedGraph, CapturedResource } from "../../runners/infra/graph.js";
import { checkGraph, configFor, OFFLINE_CONFIG } from "../../runners/policy/check.js";
import { policyPackVersion } from "../../runners/policy/run.js";

type AnalyzerPb = typeof AnalyzerPbModule;
type AnalyzerGrpc = typeof AnalyzerGrpcModule;
type StructPb = typeof StructPbModule;
type EmptyPb = typeof EmptyPbModule;

// The gRPC and protobuf modules @pulumi/pulumi itself uses: messages must be of its classes.
const fromPulumi = createRequire(createRequire(import.meta.url).resolve("@pulumi/pulumi/package.json"));
const pb = fromPulumi("@pulumi/pulumi/proto/analyzer_pb.js") as AnalyzerPb;
const grpcPb = fromPulumi("@pulumi/pulumi/proto/analyzer_grpc_pb.js") as AnalyzerGrpc;
const { Struct } = fromPulumi("google-protobuf/google/protobuf/struct_pb.js") as StructPb;
const { Empty } = fromPulumi("google-protobuf/google/protobuf/empty_pb.js") as EmptyPb;
const grpc = fromPulumi("@grpc/grpc-js") as { credentials: { createInsecure(): unknown } };

const PACK_DIR = fileURLToPath(new URL("../../policies", import.meta.url));
const RUN_POLICY_PACK = fromPulumi.resolve("@pulumi/pulumi/cmd/run-policy-pack");
const FIXTURE = (f: string): string => fileURLToPath(new URL(`../fixtures/policies/${f}`, import.meta.url));
const ALL_BREAKS = [...POLICIES.map((p) => p.name), "no-plaintext-secrets:kubeconfig"];

let pack: ChildProcess;
let client: InstanceType<AnalyzerGrpc["AnalyzerClient"]>;
let broken: CapturedGraph;
let stress: CapturedGraph;

/** One unary call, as a promise. */
const call = <Res>(send: (callback: (e: Error | null, r: Res) => void) => unknown): Promise<Res> =>
  new Promise((resolve, reject) => send((e, r) => (e ? reject(e) : resolve(r))));

beforeAll(async () => {
  pack = spawn(process.execPath, [RUN_POLICY_PACK, "127.0.0.1:1", PACK_DIR], {
    cwd: PACK_DIR,
    env: { ...process.env, PULUMI_NODEJS_PROJECT: "test-tiers", PULUMI_NODEJS_STACK: "base-20260501-0930" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  pack.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const port = new Promise<string>((resolve, reject) => {
    pack.stdout!.once("data", (d: Buffer) => resolve(d.toString().trim()));
    pack.once("exit", (code) =>
      reject(new Error(`the policy pack exited (${code}) before serving:\n${stderr}`)),
    );
  });
  [broken, stress] = await Promise.all([
    captureStack("base-20260501-0930", {
      stackFile: FIXTURE("Pulumi.fixture.yaml"),
      program: FIXTURE("broken-program.ts"),
      overrides: { "fixture:break": ALL_BREAKS },
    }),
    captureStack("stress"),
  ]);
  client = new grpcPb.AnalyzerClient(`127.0.0.1:${await port}`, grpc.credentials.createInsecure() as never);
  // As the engine does before analysing: every policy's config, schema defaults filled in.
  const configure = new pb.ConfigureAnalyzerRequest();
  for (const p of POLICIES) {
    const c = new pb.PolicyConfig();
    c.setEnforcementlevel(pb.EnforcementLevel.MANDATORY);
    c.setProperties(Struct.fromJavaScript(configFor(p, OFFLINE_CONFIG) as never));
    configure.getPolicyconfigMap().set(p.name, c);
  }
  await call((cb) => client.configure(configure, cb));
}, 180_000);

afterAll(() => {
  client?.close();
  pack?.kill();
});

function options(r: CapturedResource): InstanceType<AnalyzerPb["AnalyzerResourceOptions"]> {
  const o = new pb.AnalyzerResourceOptions();
  o.setProtect(r.options.protect);
  o.setIgnorechangesList([...r.options.ignoreChanges]);
  o.setAdditionalsecretoutputsList([...r.options.additionalSecretOutputs]);
  if (r.parent !== undefined) o.setParent(r.parent);
  return o;
}

function providerOf(r: CapturedResource, byUrn: Map<string, CapturedResource>) {
  const p = r.provider !== undefined ? byUrn.get(r.provider) : undefined;
  if (!p) return undefined;
  const m = new pb.AnalyzerProviderResource();
  m.setType(p.type);
  m.setName(p.name);
  m.setUrn(p.urn);
  m.setProperties(Struct.fromJavaScript(p.inputs as never));
  return m;
}

interface Diagnostic {
  policy: string;
  urn: string;
  level: string;
  message: string;
}

/** How the engine marks a value it does not know yet (a computed output during preview). */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** Outputs a provider computes, unknown while `pulumi preview` plans a new stack. */
const COMPUTED: Readonly<Record<string, readonly string[]>> = {
  "aws:s3/bucket:Bucket": [
    "bucket",
    "serverSideEncryptionConfiguration",
    "versioning",
    "lifecycleRules",
    "policy",
  ],
};
const S3_COMPANION =
  /^aws:s3\/bucket(PublicAccessBlock|ServerSideEncryptionConfiguration|Versioning|LifecycleConfiguration|Policy):/;

/**
 * A resource's outputs as a preview of a new stack shows them: its inputs, with id, ARN, tagsAll
 * and the type's computed outputs unknown, and a companion's `bucket` (made from the bucket's id)
 * unknown. `knownPolicy: false` makes a bucket policy (made from the bucket's ARN) unknown too.
 */
function previewOutputs(r: CapturedResource, knownPolicy: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = { ...r.inputs, id: UNKNOWN, arn: UNKNOWN, tagsAll: UNKNOWN };
  for (const k of COMPUTED[r.type] ?? []) if (out[k] === undefined) out[k] = UNKNOWN;
  if (S3_COMPANION.test(r.type)) out.bucket = UNKNOWN;
  if (!knownPolicy && r.type === "aws:s3/bucketPolicy:BucketPolicy") out.policy = UNKNOWN;
  return out;
}

/** Every violation the real analyzer reports for the graph: Analyze per resource, then AnalyzeStack. */
async function analyzeAsTheEngine(
  graph: CapturedGraph,
  preview?: { readonly knownPolicy: boolean },
): Promise<Diagnostic[]> {
  const byUrn = new Map(graph.resources.map((r) => [r.urn, r]));
  const out: Diagnostic[] = [];
  const collect = (res: InstanceType<AnalyzerPb["AnalyzeResponse"]>, fallbackUrn: string) => {
    for (const d of res.getDiagnosticsList()) {
      out.push({
        policy: d.getPolicyname(),
        urn: d.getUrn() || fallbackUrn,
        level: d.getEnforcementlevel() === pb.EnforcementLevel.MANDATORY ? "mandatory" : "advisory",
        message: d.getMessage(),
      });
    }
  };
  /** What an AnalyzeRequest and a stack's AnalyzerResource both carry, as the engine fills them. */
  const describe = <
    M extends InstanceType<AnalyzerPb["AnalyzeRequest"]> | InstanceType<AnalyzerPb["AnalyzerResource"]>,
  >(
    m: M,
    r: CapturedResource,
  ): M => {
    m.setType(r.type);
    m.setName(r.name);
    m.setUrn(r.urn);
    m.setProperties(Struct.fromJavaScript(r.inputs as never));
    m.setOptions(options(r));
    const provider = providerOf(r, byUrn);
    if (provider) m.setProvider(provider);
    return m;
  };
  for (const r of graph.resources) {
    const req = describe(new pb.AnalyzeRequest(), r);
    collect(await call<InstanceType<AnalyzerPb["AnalyzeResponse"]>>((cb) => client.analyze(req, cb)), r.urn);
  }
  const stackReq = new pb.AnalyzeStackRequest();
  stackReq.setResourcesList(
    graph.resources.map((r) => {
      const m = describe(new pb.AnalyzerResource(), r);
      if (preview) m.setProperties(Struct.fromJavaScript(previewOutputs(r, preview.knownPolicy) as never));
      if (r.parent !== undefined) m.setParent(r.parent);
      m.setDependenciesList([...r.dependencies]);
      for (const [k, urns] of Object.entries(r.propertyDependencies)) {
        const deps = new pb.AnalyzerPropertyDependencies();
        deps.setUrnsList([...urns]);
        m.getPropertydependenciesMap().set(k, deps);
      }
      return m;
    }),
  );
  collect(
    await call<InstanceType<AnalyzerPb["AnalyzeResponse"]>>((cb) => client.analyzeStack(stackReq, cb)),
    graph.root!,
  );
  return out;
}

/** The offline check's violations in the engine's terms: the message is description + "\n" + message. */
async function offline(graph: CapturedGraph): Promise<Diagnostic[]> {
  const { violations } = await checkGraph(graph);
  return violations.map((v) => ({
    policy: v.policy,
    urn: v.urn,
    level: v.level,
    message: `${v.description}\n${v.message}`,
  }));
}

const sorted = (ds: Diagnostic[]): Diagnostic[] =>
  [...ds].sort(
    (a, b) =>
      a.policy.localeCompare(b.policy) || a.urn.localeCompare(b.urn) || a.message.localeCompare(b.message),
  );

describe("the pack under Pulumi's policy-pack loader", () => {
  it("serves every policy with its description, level, kind and config schema", async () => {
    const info = await call<InstanceType<AnalyzerPb["AnalyzerInfo"]>>((cb) =>
      client.getAnalyzerInfo(new Empty(), cb),
    );
    expect({ name: info.getName(), version: info.getVersion() }).toStrictEqual({
      name: POLICY_PACK_NAME,
      version: policyPackVersion(),
    });
    expect(
      info.getPoliciesList().map((p) => ({
        name: p.getName(),
        description: p.getDescription(),
        level: p.getEnforcementlevel(),
        kind: p.getPolicyType(),
        config: p.getConfigschema()?.getProperties()?.toJavaScript() ?? {},
      })),
    ).toStrictEqual(
      POLICIES.map((p) => ({
        name: p.name,
        description: p.description,
        level: pb.EnforcementLevel.MANDATORY,
        kind: isStackPolicy(p) ? pb.PolicyType.POLICY_TYPE_STACK : pb.PolicyType.POLICY_TYPE_RESOURCE,
        config: JSON.parse(JSON.stringify(p.configSchema?.properties ?? {})) as unknown,
      })),
    );
  });

  it("finds in a graph that breaks every policy exactly what the offline check finds", async () => {
    const engine = await analyzeAsTheEngine(broken);
    const ours = await offline(broken);
    expect(new Set(ours.map((d) => d.policy))).toStrictEqual(new Set(POLICIES.map((p) => p.name)));
    expect(sorted(engine)).toStrictEqual(sorted(ours));
  });

  it("finds the same during a preview of the new stack, where computed outputs are still unknown", async () => {
    expect(sorted(await analyzeAsTheEngine(broken, { knownPolicy: true }))).toStrictEqual(
      sorted(await offline(broken)),
    );
    expect(await analyzeAsTheEngine(stress, { knownPolicy: true })).toStrictEqual([]);
  });

  it("says s3-tls-only cannot run during that preview when the bucket policy is made from the unknown ARN (advisory, not a false violation)", async () => {
    const tls = (await analyzeAsTheEngine(stress, { knownPolicy: false })).filter(
      (d) => d.policy === "s3-tls-only",
    );
    expect(tls.map((d) => [d.level, d.message.split(": ")[0]])).toStrictEqual([
      ["advisory", "can't run policy 's3-tls-only' from policy pack 'test-tiers@v0.1.0' during preview"],
    ]);
  });

  it("finds nothing in the shipped stress stack, like the offline check", async () => {
    expect(await analyzeAsTheEngine(stress)).toStrictEqual([]);
    expect(await offline(stress)).toStrictEqual([]);
  });
});
