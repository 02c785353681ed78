import type { S3Client } from "@aws-sdk/client-s3";
import { orchestratorServerName } from "../../components/environment/orchestrator-certificate.js";
import { ExitCode, TiersError } from "../../tiers/errors.js";
import { API_BUNDLE_SOURCE, s3BundleSource } from "../cycle/bundle-source.js";
import { OrchestratorClient } from "../cycle/orchestrator-client.js";
import type { ReachedEnvironment, RunTarget, TargetContext } from "../cycle/target.js";
import { forwardToPod, type Forward } from "./port-forward.js";
import { environmentsOf, type ClusterEnvironment } from "./stack-outputs.js";
import {
  describeCommandError,
  destroyWithRetry,
  streamLines,
  type PulumiStack,
  type PulumiWorkspace,
  type RetryOptions,
  type Automation,
} from "./tier-stack.js";

/** The orchestrator's container port and its pods' label (components/environment/workloads.ts). */
export const ORCHESTRATOR_PORT = 8080;
export const ORCHESTRATOR_SELECTOR = "app.kubernetes.io/name=orchestrator";

export interface ClusterTargetOptions {
  readonly auto: Automation;
  readonly workspace: PulumiWorkspace;
  readonly stackName: string;
  /** Created for this run and destroyed after it (`--ephemeral`); else selected (or created) and kept. */
  readonly ephemeral: boolean;
  /** Keep an ephemeral stack after the run (the reaper destroys it at its expiry). */
  readonly keepStack: boolean;
  /** Set with `pulumi config set-all --path` before `up` (owner, expiry, forceDestroy …). */
  readonly config: Readonly<Record<string, string>>;
  readonly tags: Readonly<Record<string, string>>;
  readonly destroyRetry?: RetryOptions;
  /** How long to wait for each orchestrator pod to be ready. */
  readonly readyTimeoutMs?: number;
  readonly watchMs?: number;
  /**
   * The orchestrator API client for an environment reached at `baseUrl`. The seam for TLS: an
   * environment whose stack exports `orchestratorCa` must be verified against it.
   */
  readonly clientFor?: (environment: ClusterEnvironment, baseUrl: string) => OrchestratorClient;
  /** The S3 client for a region's bucket (tests: the loopback server). */
  readonly s3For?: (region: string) => Promise<S3Client>;
}

/** A port-forward to the environment's orchestrator pod (its Deployment's label, its API port). */
export function forwardToOrchestrator(
  env: ClusterEnvironment,
  signal: AbortSignal,
  timing: { readonly readyTimeoutMs?: number; readonly watchMs?: number } = {},
): Promise<Forward> {
  return forwardToPod({
    kubeconfig: env.kubeconfig,
    ...(env.context !== undefined ? { context: env.context } : {}),
    namespace: env.namespace,
    labelSelector: ORCHESTRATOR_SELECTOR,
    port: ORCHESTRATOR_PORT,
    signal,
    ...(timing.readyTimeoutMs !== undefined ? { readyTimeoutMs: timing.readyTimeoutMs } : {}),
    ...(timing.watchMs !== undefined ? { watchMs: timing.watchMs } : {}),
  });
}

/** The name the orchestrator's certificate must carry: its Service's, as cert-manager issued it. */
export function clusterServerName(env: ClusterEnvironment): string {
  return orchestratorServerName(env.namespace, env.service);
}

/**
 * The API client of an environment reached through a port-forward on `baseUrl` (127.0.0.1:port):
 * HTTPS verified against the stack's CA (`orchestratorCa`) with the Service's DNS name as the
 * server name, so a certificate of another CA or for another host is refused. A stack without a CA
 * in its outputs is refused too: the cluster serves the orchestrator only over HTTPS.
 */
export function defaultClient(environment: ClusterEnvironment, baseUrl: string): OrchestratorClient {
  if (environment.ca === undefined)
    throw new TiersError(
      ExitCode.Infrastructure,
      `${environment.id}: the stack's outputs have no orchestratorCa, so its orchestrator's certificate cannot be verified (is cert-manager's CA Certificate Ready? pulumi up again once it is)`,
    );
  return new OrchestratorClient(`https://${baseUrl}`, environment.token, {
    tls: { ca: environment.ca, servername: clusterServerName(environment) },
  });
}

async function defaultS3(region: string): Promise<S3Client> {
  const { S3Client } = await import("@aws-sdk/client-s3");
  return new S3Client({ region });
}

/**
 * The cluster target: a Pulumi stack of this project, driven by the Automation API. Provision
 * selects or creates the stack, sets its config and tags, runs `up` with its progress streamed
 * (Ctrl-C sends the CLI SIGINT, then `cancel`), reads the outputs, and reaches every orchestrator
 * through a port-forward with the token and keys from the outputs. Teardown closes the forwards
 * and, for an ephemeral stack, runs `destroy` (retried with backoff) and `stack rm` — after
 * success, a failed or interrupted `up`, a lost orchestrator, Ctrl-C or SIGTERM. When destroy
 * cannot finish it throws exit 9 with the stack's name and the commands that finish the job.
 */
export class ClusterTarget implements RunTarget {
  readonly name: string;
  private stack: PulumiStack | undefined;
  private readonly forwards: Forward[] = [];
  private readonly s3Clients = new Map<string, Promise<S3Client>>();

  constructor(private readonly options: ClusterTargetOptions) {
    this.name = `stack ${options.stackName}${options.ephemeral ? " (ephemeral)" : ""}`;
  }

  async provision(context: TargetContext): Promise<readonly ReachedEnvironment[]> {
    const { auto, workspace, stackName } = this.options;
    const say = context.say;
    if (this.options.ephemeral) {
      say(`stack ${stackName}: creating`);
      this.stack = await auto.Stack.create(stackName, workspace).catch((error: unknown) => {
        throw new TiersError(
          ExitCode.Infrastructure,
          `stack ${stackName} cannot be created: ${describeCommandError(error)}`,
          { cause: error },
        );
      });
    } else {
      say(`stack ${stackName}: selecting`);
      this.stack = await auto.Stack.createOrSelect(stackName, workspace);
    }
    const stack = this.stack;
    const config = Object.fromEntries(Object.entries(this.options.config).map(([k, v]) => [k, { value: v }]));
    if (Object.keys(config).length > 0) await stack.setAllConfig(config, true);
    for (const [k, v] of Object.entries(this.options.tags)) await stack.setTag(k, v);
    say(`stack ${stackName}: pulumi up`);
    try {
      await stack.up({ onOutput: streamLines(say, "  up: "), signal: context.signal });
    } catch (error) {
      if (context.signal.aborted) {
        // The CLI got SIGINT and stopped; clear what an interrupted update may leave locked.
        await stack.cancel().then(
          () => say(`stack ${stackName}: the interrupted update was cancelled`),
          (e: unknown) => say(`stack ${stackName}: nothing to cancel (${describeCommandError(e)})`),
        );
        throw new TiersError(ExitCode.Interrupted, `interrupted during pulumi up of stack ${stackName}`);
      }
      throw new TiersError(
        ExitCode.Infrastructure,
        `pulumi up of stack ${stackName} failed: ${describeCommandError(error)}`,
        { cause: error },
      );
    }
    const outputs = await stack.outputs();
    const values = Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, v.value as unknown]));
    const environments = environmentsOf(stackName, values);
    const planned = new Set(context.plan.environments.map((e) => e.id));
    const missing = [...planned].filter((id) => !environments.some((e) => e.id === id));
    if (missing.length > 0)
      throw new TiersError(
        ExitCode.Infrastructure,
        `stack ${stackName} deployed no environment ${missing.join(", ")} of the plan`,
      );
    return Promise.all(environments.filter((e) => planned.has(e.id)).map((e) => this.reach(e, context)));
  }

  private async reach(env: ClusterEnvironment, context: TargetContext): Promise<ReachedEnvironment> {
    const forward = await forwardToOrchestrator(env, context.signal, this.options);
    this.forwards.push(forward);
    const client = (this.options.clientFor ?? defaultClient)(env, forward.address);
    await client.check();
    const bucket = env.bucket;
    const bundles = bucket
      ? s3BundleSource(() => this.s3Client(bucket.region), bucket.name, bucket.prefix)
      : API_BUNDLE_SOURCE;
    return {
      id: env.id,
      region: env.region,
      client,
      lost: forward.lost,
      bundles,
      keyringLine: env.keyringLine,
      description: `${env.id}: pod ${forward.pod} in namespace ${env.namespace}, region ${env.region}, API through a port-forward on ${forward.address}, bundles from ${bundles.description}`,
    };
  }

  private s3Client(region: string) {
    let c = this.s3Clients.get(region);
    if (!c) {
      c = (this.options.s3For ?? defaultS3)(region);
      this.s3Clients.set(region, c);
    }
    return c;
  }

  async teardown(force: AbortSignal, say: (line: string) => void): Promise<void> {
    await Promise.all(this.forwards.map((f) => f.close()));
    for (const c of this.s3Clients.values()) (await c.catch(() => undefined))?.destroy();
    const stack = this.stack;
    const name = this.options.stackName;
    if (!stack) return;
    if (!this.options.ephemeral)
      return say(`stack ${name}: kept (not ephemeral); pulumi destroy --stack ${name} when done`);
    if (this.options.keepStack)
      return say(
        `stack ${name}: kept (--keep-stack); tiers reap destroys it after its expiry, or pulumi destroy --stack ${name}`,
      );
    say(`tearing down: pulumi destroy of stack ${name}`);
    try {
      await destroyWithRetry(stack, say, force, this.options.destroyRetry);
    } catch (error) {
      throw new TiersError(
        ExitCode.TeardownFailed,
        `teardown failed: stack ${name} may still hold resources`,
        {
          details: [
            ...(error instanceof TiersError ? error.details : [describeCommandError(error)]),
            `finish it: pulumi destroy --stack ${name} --yes && pulumi stack rm ${name} --yes (or tiers reap after its expiry)`,
          ],
          cause: error,
        },
      );
    }
    try {
      await this.options.workspace.removeStack(name);
      say(`stack ${name}: removed`);
    } catch (error) {
      throw new TiersError(
        ExitCode.TeardownFailed,
        `teardown failed: stack ${name} was destroyed but not removed: ${describeCommandError(error)}`,
        {
          details: [`finish it: pulumi stack rm ${name} --yes`],
          cause: error,
        },
      );
    }
  }
}
