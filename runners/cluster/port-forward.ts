import { createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { CoreV1Api, KubeConfig, PortForward, type V1Pod } from "@kubernetes/client-node";
import { ExitCode, TiersError } from "../../tiers/errors.js";
import { describeKubeError } from "../../workloads/orchestrator/kube/context.js";

export interface ForwardOptions {
  readonly kubeconfig: string;
  readonly context?: string;
  readonly namespace: string;
  /** Pods of the orchestrator's Deployment (`app.kubernetes.io/name=orchestrator`). */
  readonly labelSelector: string;
  /** The container port (the orchestrator's 8080). */
  readonly port: number;
  /** How long to wait for a ready pod (a Deployment that just rolled out). @default 120000 */
  readonly readyTimeoutMs?: number;
  /** How often the pod is checked for being gone. @default 2000 */
  readonly watchMs?: number;
  readonly signal: AbortSignal;
}

/** A loopback port that reaches the orchestrator's pod through the Kubernetes API (`kubectl port-forward`). */
export interface Forward {
  /** `127.0.0.1:<port>`: each connection to it is a port-forward stream to the pod. */
  readonly address: string;
  readonly pod: string;
  /** Resolves (never rejects) with why the pod is gone: deleted, not running, restarted. */
  readonly lost: Promise<string>;
  close(): Promise<void>;
}

function isReady(pod: V1Pod): boolean {
  return (
    pod.status?.phase === "Running" &&
    (pod.status.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True") &&
    pod.metadata?.deletionTimestamp === undefined
  );
}

const restarts = (pod: V1Pod): number =>
  (pod.status?.containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0);

/**
 * Forwards a loopback port to a ready pod matching the selector, as `kubectl port-forward` does:
 * @kubernetes/client-node's PortForward opens one websocket stream (`v4.channel.k8s.io`) to
 * `pods/<pod>/portforward` per TCP connection. The pod is then watched: deleted, no longer
 * running, or a container restarted (the orchestrator died and its cycle with it) resolves `lost`.
 */
export async function forwardToPod(options: ForwardOptions): Promise<Forward> {
  const kc = new KubeConfig();
  try {
    kc.loadFromString(options.kubeconfig);
    if (options.context !== undefined) kc.setCurrentContext(options.context);
  } catch (error) {
    throw new TiersError(
      ExitCode.Infrastructure,
      `the stack's kubeconfig cannot be loaded: ${(error as Error).message}`,
    );
  }
  const api = kc.makeApiClient(CoreV1Api);
  const where = `namespace ${options.namespace}`;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 120_000);
  let pod: V1Pod | undefined;
  let lastProblem = "no pod yet";
  while (!pod) {
    if (options.signal.aborted) throw new TiersError(ExitCode.Interrupted, "interrupted");
    try {
      const list = await api.listNamespacedPod({
        namespace: options.namespace,
        labelSelector: options.labelSelector,
      });
      pod = list.items.find(isReady);
      if (!pod)
        lastProblem =
          list.items.length === 0
            ? `no pod matches ${options.labelSelector}`
            : `pod ${list.items[0]!.metadata?.name} is ${list.items[0]!.status?.phase ?? "pending"}, not ready`;
    } catch (error) {
      lastProblem = `the Kubernetes API answered ${describeKubeError(error).line}`;
    }
    if (pod) break;
    if (Date.now() > deadline)
      throw new TiersError(ExitCode.Infrastructure, `no ready orchestrator pod in ${where}: ${lastProblem}`);
    await sleep(1000, undefined, { signal: options.signal }).catch(() => undefined);
  }
  const name = pod.metadata!.name!;
  const startRestarts = restarts(pod);
  const forward = new PortForward(kc);
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    forward
      .portForward(options.namespace, name, [options.port], socket, null, socket)
      .then((ws) => {
        const done = () => socket.destroy();
        (ws as unknown as NodeJS.EventEmitter).on("close", done);
        (ws as unknown as NodeJS.EventEmitter).on("error", done);
        socket.once("close", () => (ws as unknown as { close(): void }).close());
      })
      .catch(() => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  const stopWatch = new AbortController();
  const watchMs = options.watchMs ?? 2000;
  const lost = (async (): Promise<string> => {
    let failures = 0;
    while (!stopWatch.signal.aborted) {
      try {
        await sleep(watchMs, undefined, { signal: stopWatch.signal });
      } catch {
        break;
      }
      try {
        const now = await api.readNamespacedPod({ name, namespace: options.namespace });
        failures = 0;
        if (now.metadata?.deletionTimestamp) return `pod ${name} is being deleted`;
        if (now.status?.phase !== "Running") return `pod ${name} is ${now.status?.phase ?? "gone"}`;
        if (restarts(now) > startRestarts) return `pod ${name} restarted (its orchestrator exited)`;
      } catch (error) {
        const d = describeKubeError(error);
        if (d.status === 404) return `pod ${name} was deleted`;
        if (++failures >= 5) return `the Kubernetes API is unreachable: ${d.line}`;
      }
    }
    return new Promise<string>(() => undefined);
  })();
  return {
    address: `127.0.0.1:${port}`,
    pod: name,
    lost,
    close: async () => {
      stopWatch.abort();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
