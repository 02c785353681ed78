import { createPublicKey } from "node:crypto";
import { z } from "zod";
import { ExitCode, TiersError } from "../../tiers/errors.js";
import { formatKeyringLine } from "../../workloads/bundle/keyring.js";
import { rawPublicKey } from "../../workloads/bundle/keys.js";

/**
 * The stack outputs the runner reads (`stacks/program.ts` exports them; TestTierOutputs documents
 * each). Secrets (kubeconfigs, API tokens) are read with `--show-secrets` and never printed.
 * `orchestratorCa` (per environment, or for the whole stack) is the CA the orchestrator's HTTPS
 * certificate chains to, where the stack serves TLS; without it the API is reached over the
 * port-forward in plain HTTP.
 */
const EnvironmentOutput = z.object({
  region: z.string(),
  role: z.string(),
  namespace: z.string(),
  orchestratorService: z.string(),
  orchestratorUrl: z.string(),
  signingPublicKeyPem: z.string(),
  bundleBucket: z.string().optional(),
  bundlePrefix: z.string().optional(),
  orchestratorCa: z.string().optional(),
});

export const TierStackOutputs = z.object({
  stack: z.string(),
  tier: z.string(),
  mode: z.enum(["eks", "kubeconfig"]),
  planHash: z.string(),
  regions: z.record(z.string(), z.object({ roles: z.array(z.string()), context: z.string().optional() })),
  environments: z.record(z.string(), EnvironmentOutput),
  kubeconfigs: z.record(z.string(), z.string()),
  apiTokens: z.record(z.string(), z.string()),
  orchestratorCa: z.string().optional(),
});
export type TierStackOutputs = z.infer<typeof TierStackOutputs>;

/** One environment of a deployed stack, everything the runner needs to reach it. */
export interface ClusterEnvironment {
  readonly id: string;
  readonly region: string;
  readonly role: string;
  readonly namespace: string;
  readonly service: string;
  readonly kubeconfig: string;
  readonly context?: string;
  readonly token: string;
  readonly keyringLine: string;
  readonly bucket?: { readonly name: string; readonly prefix: string; readonly region: string };
  /** PEM of the CA to verify the orchestrator's HTTPS with, when the stack serves TLS. */
  readonly ca?: string;
}

/** The stack's outputs (plain values, as `stack.outputs()` gives them unwrapped) → its environments. */
export function environmentsOf(stack: string, values: unknown): ClusterEnvironment[] {
  const parsed = TierStackOutputs.safeParse(values);
  if (!parsed.success) {
    throw new TiersError(ExitCode.Infrastructure, `the outputs of stack ${stack} are not a test tier's`, {
      details: parsed.error.issues.map((i) => `${i.path.join(".") || "(outputs)"}: ${i.message}`),
    });
  }
  const o = parsed.data;
  return Object.entries(o.environments).map(([id, e]) => {
    const kubeconfig = o.kubeconfigs[e.region];
    const token = o.apiTokens[id];
    if (kubeconfig === undefined || token === undefined)
      throw new TiersError(
        ExitCode.Infrastructure,
        `the outputs of stack ${stack} have no ${kubeconfig === undefined ? `kubeconfig for region ${e.region}` : `API token for ${id}`}`,
      );
    let keyringLine: string;
    try {
      keyringLine = formatKeyringLine(
        id,
        rawPublicKey(createPublicKey(e.signingPublicKeyPem)),
        `${id} signing key (stack ${stack})`,
      );
    } catch (error) {
      throw new TiersError(
        ExitCode.Infrastructure,
        `the signing key of ${id} in the outputs of stack ${stack} is not an ed25519 public key: ${(error as Error).message}`,
      );
    }
    const context = o.regions[e.region]?.context;
    const ca = e.orchestratorCa ?? o.orchestratorCa;
    return {
      id,
      region: e.region,
      role: e.role,
      namespace: e.namespace,
      service: e.orchestratorService,
      kubeconfig,
      ...(context !== undefined ? { context } : {}),
      token,
      keyringLine,
      ...(e.bundleBucket && e.bundlePrefix
        ? { bucket: { name: e.bundleBucket, prefix: e.bundlePrefix, region: e.region } }
        : {}),
      ...(ca !== undefined ? { ca } : {}),
    };
  });
}
