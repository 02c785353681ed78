import { randomUUID } from "node:crypto";
import { execa } from "execa";
import { fileURLToPath } from "node:url";
import { startRunning, type Running } from "../../workloads/orchestrator/process/spawn.js";
import type { KubeApiStandIn, KubeRequest, StoredObject } from "./kube-api.js";

/**
 * Part of the Kubernetes API **stand-in** (kube-api.ts; the README names it): what the Job
 * controller and the kubelet would do for an Indexed Job, done on this machine. For each completion
 * index it stores a pod (labels `job-name`, `batch.kubernetes.io/job-completion-index`, the
 * template's labels; the index annotation), runs the pod's container as a real process — the
 * container's `args`, the image's `orchestrator` executable being this checkout's
 * (`node bin/orchestrator.js <args after "orchestrator">`; or the image itself under podman) — with
 * `JOB_COMPLETION_INDEX` set, writes its
 * stdout and stderr into the pod's log as the kubelet does, and reports the pod Running, then
 * Succeeded or Failed with the container's exit code. Deleting the Job terminates its pods (SIGTERM,
 * then SIGKILL after the grace) and removes them once their process has exited.
 *
 * Not what a real cluster adds: scheduling, images, the quota's admission, the pods' network.
 */

const ORCHESTRATOR_BIN = fileURLToPath(new URL("../../bin/orchestrator.js", import.meta.url));

export interface JobControllerOptions {
  /**
   * How a pod's container runs: a process of this checkout's orchestrator (default), or the Job's
   * own image under podman (`podman run` with the container's image, args, user, CPU and memory
   * limits, read-only root, no capabilities; host network so it reaches loopback targets).
   */
  readonly runtime?: "process" | "podman";
  /** Milliseconds before index i's container starts (a pod scheduled late). @default 0 */
  readonly startDelayMs?: (index: number) => number;
  /** What index i runs instead of the orchestrator (a broken worker). */
  readonly command?: (index: number, args: readonly string[]) => { file: string; args: string[] } | undefined;
  /** Grace between SIGTERM and SIGKILL when a Job is deleted. @default 10000 */
  readonly terminationGraceMs?: number;
}

interface PodRun {
  readonly namespace: string;
  readonly name: string;
  readonly job: string;
  running?: Running;
  exited?: boolean;
  timer?: NodeJS.Timeout;
  deleted: boolean;
}

export interface JobController {
  readonly onCreate: (object: StoredObject, request: KubeRequest) => void;
  readonly onDelete: (object: StoredObject, request: KubeRequest) => void;
  /** Binds the controller to the stand-in it serves (after `startKubeApi`). */
  attach(api: KubeApiStandIn): void;
  /** Pods started so far (namespace/name), in order. */
  readonly started: readonly string[];
  /** Processes still running. */
  live(): number;
  /** Kills whatever still runs. */
  close(): Promise<void>;
}

interface ContainerBody {
  name: string;
  image?: string;
  args?: string[];
  env?: { name: string; value?: string }[];
  resources?: { limits?: { cpu?: string; memory?: string } };
  securityContext?: { runAsUser?: number };
}

interface JobBody {
  spec?: {
    completions?: number;
    template?: {
      metadata?: { labels?: Record<string, string> };
      spec?: { containers?: ContainerBody[] };
    };
  };
}

/** `podman run` for a pod's container, as the kubelet would start it (its limits, user, read-only root). */
function podmanInvocation(pod: string, container: ContainerBody, env: Record<string, string>) {
  const cpu = container.resources?.limits?.cpu;
  const memory = container.resources?.limits?.memory?.replace(/i$/, "").toLowerCase();
  return {
    file: "podman",
    args: [
      "run",
      "--rm",
      "--name",
      pod,
      "--network",
      "host",
      "--read-only",
      "--cap-drop",
      "ALL",
      "--security-opt",
      "no-new-privileges",
      ...(container.securityContext?.runAsUser !== undefined
        ? ["--user", String(container.securityContext.runAsUser)]
        : []),
      ...(cpu ? ["--cpus", cpu.endsWith("m") ? String(Number(cpu.slice(0, -1)) / 1000) : cpu] : []),
      ...(memory ? ["--memory", memory] : []),
      ...Object.entries(env).flatMap(([k, v]) => ["-e", `${k}=${v}`]),
      container.image ?? "",
      ...(container.args ?? []),
    ],
  };
}

export function jobController(options: JobControllerOptions = {}): JobController {
  let api: KubeApiStandIn | undefined;
  const pods: PodRun[] = [];
  const started: string[] = [];
  const grace = options.terminationGraceMs ?? 10_000;

  const status = (pod: PodRun, phase: string, container: Record<string, unknown>) =>
    api?.setStatus("pods", pod.namespace, pod.name, {
      phase,
      containerStatuses: [{ name: "load-worker", state: container }],
    });

  const startPod = (pod: PodRun, index: number, container: ContainerBody, env: Record<string, string>) => {
    if (pod.deleted || !api) return;
    const args = container.args ?? [];
    const custom = options.command?.(index, args);
    const podEnv = { ...env, JOB_COMPLETION_INDEX: String(index) };
    let running: Running;
    try {
      running =
        options.runtime === "podman" && !custom
          ? startRunning(podmanInvocation(pod.name, container, podEnv))
          : startRunning({
              file: custom?.file ?? process.execPath,
              args: custom?.args ?? [
                ORCHESTRATOR_BIN,
                ...(args[0] === "orchestrator" ? args.slice(1) : args),
              ],
              env: podEnv,
            });
    } catch (error) {
      status(pod, "Failed", { terminated: { exitCode: 128, reason: "StartError", message: String(error) } });
      api.appendLog(pod.namespace, pod.name, "");
      api.endLog(pod.namespace, pod.name);
      return;
    }
    pod.running = running;
    started.push(`${pod.namespace}/${pod.name}`);
    api.appendLog(pod.namespace, pod.name, "");
    status(pod, "Running", { running: { startedAt: new Date().toISOString() } });
    running.onLine((line) => api?.appendLog(pod.namespace, pod.name, `${line}\n`));
    void running.exited.then(({ exitCode, signal }) => {
      pod.exited = true;
      // Let the last lines reach the log before it ends.
      setTimeout(() => {
        if (!api) return;
        api.endLog(pod.namespace, pod.name);
        const code = exitCode ?? (signal === "SIGKILL" ? 137 : 143);
        status(pod, code === 0 ? "Succeeded" : "Failed", {
          terminated: { exitCode: code, reason: code === 0 ? "Completed" : "Error" },
        });
        if (pod.deleted) api.remove("", "pods", pod.namespace, pod.name);
      }, 50);
    });
  };

  return {
    attach: (a) => (api = a),
    started,
    live: () => pods.filter((p) => p.running && !p.exited).length,
    onCreate: (object) => {
      if (object.kind !== "Job" || !api) return;
      const body = object as unknown as JobBody;
      const completions = body.spec?.completions ?? 1;
      const template = body.spec?.template;
      const container = template?.spec?.containers?.[0];
      const env = Object.fromEntries((container?.env ?? []).map((e) => [e.name, e.value ?? ""]));
      const namespace = object.metadata.namespace;
      for (let index = 0; index < completions; index += 1) {
        const name = `${object.metadata.name}-${index}-${randomUUID().slice(0, 5)}`;
        api.put("", "pods", {
          apiVersion: "v1",
          kind: "Pod",
          metadata: {
            name,
            namespace,
            labels: {
              ...template?.metadata?.labels,
              "batch.kubernetes.io/job-name": object.metadata.name,
              "batch.kubernetes.io/job-completion-index": String(index),
            },
            annotations: { "batch.kubernetes.io/job-completion-index": String(index) },
          },
          spec: template?.spec ?? {},
          status: { phase: "Pending" },
        });
        const pod: PodRun = { namespace, name, job: object.metadata.name, deleted: false };
        pods.push(pod);
        const delay = options.startDelayMs?.(index) ?? 0;
        pod.timer = setTimeout(() => startPod(pod, index, container ?? { name: "load-worker" }, env), delay);
      }
    },
    onDelete: (object) => {
      if (object.kind !== "Job" || !api) return;
      for (const pod of pods.filter((p) => p.job === object.metadata.name && !p.deleted)) {
        pod.deleted = true;
        if (pod.timer) clearTimeout(pod.timer);
        if (!pod.running) api.remove("", "pods", pod.namespace, pod.name);
        else if (options.runtime === "podman")
          // As the kubelet: SIGTERM to the container's PID 1 (the image's tini), SIGKILL after the grace.
          void execa("podman", ["stop", "-t", String(Math.ceil(grace / 1000)), pod.name], { reject: false });
        else void pod.running.stop(grace);
      }
    },
    close: async () => {
      for (const p of pods) if (p.timer) clearTimeout(p.timer);
      if (options.runtime === "podman" && pods.length > 0)
        await execa("podman", ["rm", "-f", "-t", "0", ...pods.map((p) => p.name)], { reject: false });
      await Promise.all(pods.map((p) => (p.running ? p.running.stop(0) : Promise.resolve())));
    },
  };
}
