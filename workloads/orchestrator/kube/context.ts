import { readFileSync } from "node:fs";
import { KubeConfig } from "@kubernetes/client-node";
import { ExitCode, TiersError } from "../../../tiers/errors.js";

/**
 * How the orchestrator reaches the Kubernetes API of the cluster it runs in, for the objects it
 * creates in its own namespace (load Jobs, Chaos Mesh resources): in a pod, the service account's
 * token and CA mounted by Kubernetes (`KUBERNETES_SERVICE_HOST`); elsewhere (tests, a laptop against a
 * cluster) the kubeconfig named by `TIERS_KUBECONFIG`. The namespace is always the environment's own.
 */
export interface KubeContext {
  readonly config: KubeConfig;
  /** The environment's namespace: every object the orchestrator creates goes there, nowhere else. */
  readonly namespace: string;
  /** Where the config came from, for messages ("in-cluster service account", "kubeconfig /path"). */
  readonly source: string;
}

const SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** The orchestrator's Kubernetes context, or null when it runs outside a cluster with no kubeconfig. */
export function loadKubeContext(env: NodeJS.ProcessEnv = process.env): KubeContext | null {
  const file = env.TIERS_KUBECONFIG;
  if (file !== undefined && file !== "") {
    const config = new KubeConfig();
    try {
      config.loadFromFile(file);
    } catch (error) {
      throw new TiersError(
        ExitCode.InvalidConfig,
        `environment TIERS_KUBECONFIG: the kubeconfig ${file} cannot be read: ${(error as Error).message}`,
      );
    }
    const namespace = env.TIERS_NAMESPACE ?? config.getContextObject(config.getCurrentContext())?.namespace;
    if (!namespace)
      throw new TiersError(
        ExitCode.InvalidConfig,
        `environment TIERS_KUBECONFIG: the kubeconfig ${file} names no namespace for its current context, and TIERS_NAMESPACE is not set`,
      );
    return { config, namespace, source: `kubeconfig ${file}` };
  }
  if (env.KUBERNETES_SERVICE_HOST) {
    const config = new KubeConfig();
    config.loadFromCluster();
    let namespace = env.TIERS_NAMESPACE;
    if (!namespace) {
      try {
        namespace = readFileSync(`${SA_DIR}/namespace`, "utf8").trim();
      } catch (error) {
        throw new TiersError(
          ExitCode.Infrastructure,
          `in-cluster Kubernetes access: the service account's namespace cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); is automountServiceAccountToken off?`,
        );
      }
    }
    return { config, namespace, source: "in-cluster service account" };
  }
  return null;
}

interface ApiExceptionLike {
  readonly code?: number;
  readonly body?: unknown;
  readonly message?: string;
}

/**
 * One line for a failed API call: the HTTP status, the Status reason and message the API server
 * sent (`403 Forbidden: podchaos.chaos-mesh.org is forbidden: …`), or the transport error.
 */
export function describeKubeError(error: unknown): { status: number | null; reason: string; line: string } {
  const e = error as ApiExceptionLike;
  if (typeof e?.code === "number") {
    let body: { reason?: string; message?: string } | undefined;
    try {
      body = (typeof e.body === "string" ? JSON.parse(e.body) : e.body) as typeof body;
    } catch {
      body = undefined;
    }
    const reason = body?.reason ?? "";
    const message = body?.message ?? (typeof e.body === "string" ? e.body.slice(0, 200) : "");
    return {
      status: e.code,
      reason,
      line: `${e.code}${reason ? ` ${reason}` : ""}${message ? `: ${message}` : ""}`,
    };
  }
  return { status: null, reason: "", line: (error as Error)?.message ?? String(error) };
}
