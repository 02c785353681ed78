import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { startRunning, type Running } from "../../workloads/orchestrator/process/spawn.js";
import type { KubeApiStandIn, KubeRequest, StoredObject } from "./kube-api.js";

/**
 * Part of the Kubernetes API **stand-in** (kube-api.ts; the README names it): what the Job
 * controller and the kubelet would do for an Indexed Job, done on this machine. For each completion
 * index it stores a pod (labels `job-name`, `batch.kubernetes.io/job-completion-index`, the
 * template's labels; the index annotation), runs the pod's container as a real process — the
 * container's `args` after the image's entrypoint, which for the orchestrator image is the
 * orchestrator, so `node bin/orchestrator.js <args>` — with `JOB_COMPLETION_INDEX` set, writes its
 * stdout and stderr into the pod's log as the kubelet does, and reports the pod Running, then
 * Succeeded or Failed with the container's exit code. Deleting the Job terminates its pods (SIGTERM,
 * then SIGKILL after the grace) and removes them once their process has exited.
 *
 * Not what a real cluster adds: scheduling, images, the quota's admission, the pods' network.
 */

const ORCHESTRATOR_BIN = fileURLToPath(new URL("../../bin/orchestrator.js", import.meta.url));

export interface JobControllerOptions {
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

interface JobBody {
  spec?: {
    completions?: number;
    template?: {
      metadata?: { labels?: Record<string, string> };
      spec?: { containers?: { name: string; args?: string[]; env?: { name: string; value?: string }[] }[] };
    };
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

  const startPod = (pod: PodRun, index: number, args: readonly string[], env: Record<string, string>) => {
    if (pod.deleted || !api) return;
    const custom = options.command?.(index, args);
    let running: Running;
    try {
      running = startRunning({
        file: custom?.file ?? process.execPath,
        args: custom?.args ?? [ORCHESTRATOR_BIN, ...args],
        env: { ...env, JOB_COMPLETION_INDEX: String(index) },
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
        pod.timer = setTimeout(() => startPod(pod, index, container?.args ?? [], env), delay);
      }
    },
    onDelete: (object) => {
      if (object.kind !== "Job" || !api) return;
      for (const pod of pods.filter((p) => p.job === object.metadata.name && !p.deleted)) {
        pod.deleted = true;
        if (pod.timer) clearTimeout(pod.timer);
        if (!pod.running) api.remove("", "pods", pod.namespace, pod.name);
        else void pod.running.stop(grace);
      }
    },
    close: async () => {
      for (const p of pods) if (p.timer) clearTimeout(p.timer);
      await Promise.all(pods.map((p) => (p.running ? p.running.stop(0) : Promise.resolve())));
    },
  };
}
