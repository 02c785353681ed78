/**
 * Everything `tiers run` reaches, on this machine: a Pulumi project in a scratch directory (the
 * repository's Pulumi.yaml and a template stack file), the recording `pulumi` stand-in on PATH, the
 * Kubernetes API stand-in whose `pods/<pod>/portforward` reaches real `orchestrator serve` processes
 * (the "pods"), and a real S3 API server (s3rver) holding the stack's bundle bucket. The stand-in's
 * stack outputs are the real program's, captured under Pulumi's mock runtime, with the secrets and
 * keys the real orchestrators have.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync } from "node:crypto";
import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { captureStack } from "../../runners/infra/capture.js";
import { REPO_ROOT } from "./cli.js";
import { orchestratorDnsNames } from "../../components/environment/orchestrator-certificate.js";
import { serveEnvironment, testRunCa, type ServedEnvironment } from "./orchestrator.js";
import { startKubeApi, type KubeApiStandIn } from "../support/kube-api.js";
import { startPulumiStandIn, type PulumiStandIn, type StandInScenario } from "../support/pulumi-stand-in.js";
import { startS3Server, type S3TestServer } from "../support/s3-server.js";
import { tempDir } from "../support/temp.js";

export const TEMPLATE = "e2e";
export const ENV_ID = "e2e-1";
export const NAMESPACE = `tiers-${ENV_ID}`;
export const POD = "orchestrator-7d9f8b6c5-x2x9q";

/** A one-environment base tier on EKS, as a user's stack file would be. */
export const TEMPLATE_FILE = `# A one-environment base tier for the tiers run tests.
config:
  pulumi:disable-default-providers: ["*"]
  test-tiers:tier: base
  test-tiers:owner: e2e-team
  test-tiers:cluster:
    mode: eks
    version: "1.34"
    endpointPublicAccess: false
  test-tiers:regions: [us-east-1]
  test-tiers:environments:
    ${ENV_ID}: {}
`;

export interface ClusterWorld {
  readonly projectDir: string;
  readonly scratch: string;
  readonly pulumi: PulumiStandIn;
  readonly kube: KubeApiStandIn;
  readonly s3: S3TestServer;
  readonly orchestrator: ServedEnvironment | undefined;
  readonly bucket: string;
  /** The environment for a `tiers run` process: the stand-in on PATH, S3 on loopback, short backoff. */
  readonly env: NodeJS.ProcessEnv;
  /** Argv of every `pulumi` invocation, joined by spaces, `--non-interactive` left out. */
  commands(): Promise<string[]>;
  close(): Promise<void>;
}

let captured: Promise<Record<string, unknown>> | undefined;
/** The template stack's outputs as the real program computes them (Pulumi mock runtime), once per file. */
function programOutputs(stackFile: string): Promise<Record<string, unknown>> {
  captured ??= captureStack(TEMPLATE, { stackFile }).then((g) => {
    if (!g.ok) throw new Error(`capture failed: ${g.error?.message}`);
    return g.outputs as Record<string, unknown>;
  });
  return captured;
}

/**
 * Starts everything a `tiers run` test reaches. Whatever was started is stopped again, in reverse
 * order, when a later step fails, so a failed start leaves no server, process or directory behind.
 */
export async function startClusterWorld(
  scenario: Omit<StandInScenario, "outputs" | "secretOutputs">,
  opts: Parameters<typeof buildClusterWorld>[1] = {},
): Promise<ClusterWorld> {
  const started: (() => Promise<void>)[] = [];
  try {
    return await buildClusterWorld(scenario, opts, started);
  } catch (error) {
    for (const stop of started.reverse()) await stop().catch(() => undefined);
    throw error;
  }
}

async function buildClusterWorld(
  scenario: Omit<StandInScenario, "outputs" | "secretOutputs">,
  opts: {
    readonly orchestrator?: boolean;
    readonly deployed?: string;
    /** The CA the stack's outputs name (default: the test CA that issued the orchestrator's certificate). */
    readonly ca?: string;
    /**
     * false: the stack has no bundle bucket, as the `local` stack (kubeconfig mode): its outputs name
     * none, and the orchestrator keeps its bundles on its volume (no environment.json).
     */
    readonly bucket?: boolean;
  } = {},
  started: (() => Promise<void>)[],
): Promise<ClusterWorld> {
  const scratch = await tempDir("tiers-cluster-run-");
  started.push(() => scratch.remove());
  const projectDir = join(scratch.path, "project");
  await mkdir(join(projectDir, "stacks"), { recursive: true });
  await copyFile(join(REPO_ROOT, "Pulumi.yaml"), join(projectDir, "Pulumi.yaml"));
  const stackFile = join(projectDir, "stacks", `Pulumi.${TEMPLATE}.yaml`);
  await writeFile(stackFile, TEMPLATE_FILE);
  const outputs = structuredClone(await programOutputs(stackFile));
  const envOut = (outputs.environments as Record<string, Record<string, string>>)[ENV_ID]!;
  const bucket = envOut.bundleBucket!;
  const withBucket = opts.bucket ?? true;
  if (!withBucket) {
    // What the program exports in kubeconfig mode: no bucket, no EKS cluster.
    outputs.mode = "kubeconfig";
    delete envOut.bundleBucket;
    delete envOut.bundlePrefix;
    for (const r of Object.values(outputs.regions as Record<string, Record<string, unknown>>)) {
      delete r.bundleBucket;
      delete r.clusterName;
    }
  }

  const s3 = await startS3Server([]);
  started.push(() => s3.close());
  await s3.client().send(new CreateBucketCommand({ Bucket: bucket }));
  const s3Env = {
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
    AWS_REGION: s3.region,
    AWS_SDK_JS_SUPPRESS_NODEJS_VERSION_WARNING: "1",
  };
  let orchestrator: ServedEnvironment | undefined;
  let token = "x".repeat(48);
  if (opts.orchestrator ?? true) {
    const environmentFile = join(scratch.path, "environment.json");
    if (withBucket)
      await writeFile(
        environmentFile,
        JSON.stringify({
          stack: TEMPLATE,
          tier: "base",
          region: "us-east-1",
          role: envOut.role,
          environment: ENV_ID,
          bundles: { kind: "s3", bucket, prefix: envOut.bundlePrefix, region: "us-east-1" },
        }),
      );
    // Its certificate names the Service as cert-manager's would (no IP): the runner, reaching it
    // through the port-forward on 127.0.0.1, must verify it by the Service's DNS name.
    orchestrator = await serveEnvironment(ENV_ID, {
      env: { ...process.env, ...s3Env, ...(withBucket ? { TIERS_ENVIRONMENT_CONFIG: environmentFile } : {}) },
      names: orchestratorDnsNames(NAMESPACE),
    });
    started.push(() => orchestrator!.cleanup());
    token = orchestrator.token;
    const pem = await readFile(join(orchestrator.dir, "data", "keys", "bundle-signing.pem"), "utf8");
    envOut.signingPublicKeyPem = createPublicKey(createPrivateKey(pem)).export({
      format: "pem",
      type: "spki",
    }) as string;
  } else {
    envOut.signingPublicKeyPem = generateKeyPairSync("ed25519").publicKey.export({
      format: "pem",
      type: "spki",
    }) as string;
  }
  // The stack's CA output, as the program reads it from cert-manager's CA Secret (the mock runtime
  // has no Secret to read): the test CA the orchestrator's certificate chains to.
  envOut.orchestratorCa = opts.ca ?? (await testRunCa()).cert;
  const port = orchestrator ? Number(new URL(orchestrator.process.url).port) : 0;
  const kube = await startKubeApi({
    token: "kube-token-for-the-runner",
    portForward: (ns, pod, p) =>
      orchestrator && ns === NAMESPACE && pod === POD && p === 8080 ? { host: "127.0.0.1", port } : undefined,
  });
  started.push(() => kube.close());
  kube.put("", "pods", {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: POD, namespace: NAMESPACE, labels: { "app.kubernetes.io/name": "orchestrator" } },
    status: {
      phase: "Running",
      conditions: [{ type: "Ready", status: "True" }],
      containerStatuses: [{ name: "orchestrator", restartCount: 0, ready: true }],
    },
  });
  outputs.kubeconfigs = { "us-east-1": kube.kubeconfig(NAMESPACE) };
  outputs.apiTokens = { [ENV_ID]: token };
  const pulumi = await startPulumiStandIn({
    ...scenario,
    ...(opts.deployed
      ? {
          stacks: {
            [opts.deployed]: { tags: {}, resourceCount: 42, lastUpdate: new Date().toISOString(), outputs },
          },
        }
      : {}),
    outputs,
    secretOutputs: ["kubeconfigs", "apiTokens"],
  });
  return {
    projectDir,
    scratch: scratch.path,
    pulumi,
    kube,
    s3,
    orchestrator,
    bucket,
    env: {
      ...pulumi.env,
      ...s3Env,
      TIERS_DESTROY_BACKOFF_MS: "50",
      TIERS_DB_URL: join(scratch.path, "results.db"),
    },
    commands: async () =>
      (await pulumi.calls()).map((argv) => argv.filter((a) => a !== "--non-interactive").join(" ")),
    close: async () => {
      await orchestrator?.cleanup();
      await kube.close();
      await s3.close();
      await pulumi.close();
      await scratch.remove();
    },
  };
}

/** `tiers run`'s flags for a short ephemeral run of the template stack that reports whatever the gates say. */
export const RUN_FLAGS = ["--ephemeral", "--ttl", "4h", "--time-scale", "0.004", "--fail-on", "never"];

/** `tiers run <template> …` in the world's project, its output under the world's scratch directory. */
export const runArgs = (w: ClusterWorld, extra: readonly string[] = []): string[] => [
  "run",
  TEMPLATE,
  ...RUN_FLAGS,
  "--project-dir",
  w.projectDir,
  "--out",
  join(w.scratch, "out"),
  ...extra,
];

/** The stack name in a run's output (`ephemeral stack base-20261202-0930`). */
export function stackNameOf(output: string): string {
  const m = /ephemeral stack (base-\d{8}-\d{4})/.exec(output);
  if (!m) throw new Error(`no ephemeral stack in:\n${output}`);
  return m[1]!;
}

/** What the Automation API runs for `tiers run --ephemeral` up to `up`, for stack `s`. */
export function startSequence(s: string, owner = "e2e-team", expiresAt = ".*"): RegExp[] {
  return [
    /^version$/,
    new RegExp(`^stack init ${s}$`),
    new RegExp(
      `^config set-all --stack ${s} --path --plaintext test-tiers:owner=${owner} --plaintext test-tiers:expiresAt=${expiresAt} --plaintext test-tiers:bundles\\.forceDestroy=true$`,
    ),
    new RegExp(`^stack tag set test-tiers:ephemeral true --stack ${s}$`),
    new RegExp(`^stack tag set test-tiers:tier base --stack ${s}$`),
    new RegExp(`^stack tag set test-tiers:expires-at ${expiresAt} --stack ${s}$`),
    new RegExp(`^stack tag set test-tiers:owner ${owner} --stack ${s}$`),
    new RegExp(`^up --yes --skip-preview --exec-kind auto\\.local --stack ${s}$`),
  ];
}
