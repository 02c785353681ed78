/**
 * A loaded phase on the cluster: its load as a Kubernetes Indexed Job of load workers in the
 * environment's namespace. Pure (plain objects, no Pulumi, no client), shared by the orchestrator
 * (which creates the Job through @kubernetes/client-node when the phase starts) and the stack
 * program (whose offline graph asserts the Role the orchestrator needs for it).
 *
 * Each pod runs the orchestrator image with `args` only — never `command`, so the image's
 * entrypoint (tini as PID 1) stays — as `orchestrator load-worker --index job --workers N` with the phase's
 * whole rate and connections: its share is the one `splitLoad` gives its completion index, so the
 * shares add up to the whole exactly although every pod has the same args. All pods start their
 * load at `--start-at` (epoch ms), so their seconds line up. The Job sets resources, runs non-root
 * and is deleted by Kubernetes `ttlSecondsAfterFinished` after it ends if the orchestrator could not
 * delete it itself.
 */
import { cpuQuantity, memoryQuantity } from "./sizing.js";
import type { ContainerResources } from "./workload-sizing.js";

const MI = 2 ** 20;

/** One load worker pod: autocannon is single-threaded, one core is what it can use. */
export const LOAD_WORKER_RESOURCES: ContainerResources = {
  requests: { cpu_millis: 1000, memory_bytes: 256 * MI },
  limits: { cpu_millis: 1000, memory_bytes: 512 * MI },
};

/** Seconds a finished load Job stays before Kubernetes deletes it (the orchestrator deletes it first). */
export const LOAD_JOB_TTL_S = 300;

/** The uid the environment's workloads run as (components/environment/pod-security.ts). */
export const LOAD_WORKER_UID = 10001;

/**
 * Requests per second one worker pod is planned to carry: a phase's Job has `ceil(rps / this)`
 * pods. A planning figure, not a measurement: the `load-workers` benchmark measures what one
 * worker core generates (README "How load scales on the cluster"), and against a real SUT what
 * each connection gets back decides more; the orchestrator's `load_worker_capacity_rps`
 * (TIERS_LOAD_WORKER_CAPACITY_RPS) sets it per environment.
 */
export const LOAD_WORKER_CAPACITY_RPS = 5000;

/** The ServiceAccount the load worker pods run as: no token, no binding, no permission. */
export const LOAD_WORKER_SERVICE_ACCOUNT = "load-worker";

/** The label every load Job and its pods carry, valued with the Job's name (sweeps select on it). */
export const LOAD_JOB_LABEL = "test-tiers/load-job";

/**
 * The label naming who created a load Job: the creating orchestrator's host name (its pod's name
 * on a cluster). The start-up sweep deletes only its own host's Jobs and those whose creator pod
 * is gone, never a Job another live pod (the Deployment, a workflow's load step) is running.
 */
export const LOAD_JOB_CREATOR_LABEL = "test-tiers/load-creator";

/** A label value from a host name: at most 63 of `[A-Za-z0-9._-]`, alphanumeric at both ends. */
export function creatorLabelValue(host: string): string {
  const v = host.replace(/[^A-Za-z0-9._-]/g, "-").slice(0, 63);
  return v.replace(/^[^A-Za-z0-9]+/, "").replace(/[^A-Za-z0-9]+$/, "") || "unknown";
}

/** The ServiceAccount, Role and RoleBinding name that lets an environment's orchestrator run load Jobs. */
export const LOAD_JOB_RBAC_NAME = "orchestrator-load-jobs";

/**
 * What the orchestrator may do in its own namespace for load Jobs, and nothing else: create, watch
 * and delete Jobs; list its pods and read their logs (the workers' reports).
 */
export const LOAD_JOB_RULES = [
  { apiGroups: ["batch"], resources: ["jobs"], verbs: ["create", "get", "list", "watch", "delete"] },
  { apiGroups: [""], resources: ["pods"], verbs: ["get", "list"] },
  { apiGroups: [""], resources: ["pods/log"], verbs: ["get"] },
] as const;

/**
 * Load worker pods for a target rate: `ceil(rps / capacity)`, at least 1, at most what the
 * namespace's quota leaves for workers (`maxWorkers`). Returns the count and whether it was capped.
 */
export function loadJobParallelism(
  rps: number,
  workerCapacityRps: number,
  maxWorkers: number,
): { readonly parallelism: number; readonly capped: boolean } {
  if (!(workerCapacityRps > 0))
    throw new Error(`worker capacity must be above 0 rps (got ${workerCapacityRps})`);
  const wanted = Math.max(1, Math.ceil(rps / workerCapacityRps));
  const cap = Math.max(1, Math.floor(maxWorkers));
  return { parallelism: Math.min(wanted, cap), capped: wanted > cap };
}

/** Workers the quota leaves room for beside the environment's own workloads. */
export function maxLoadWorkers(spareCpuMillis: number, spareMemoryBytes: number): number {
  const r = LOAD_WORKER_RESOURCES.limits;
  return Math.max(
    0,
    Math.min(Math.floor(spareCpuMillis / r.cpu_millis), Math.floor(spareMemoryBytes / r.memory_bytes)),
  );
}

export interface LoadJobInput {
  readonly namespace: string;
  /** The Job's name (a DNS label): `load-<phase>-<cycle suffix>`. */
  readonly name: string;
  readonly image: string;
  readonly parallelism: number;
  readonly serviceAccountName?: string;
  /** `load-worker` flags for every pod: the phase's whole rate and connections, split by index. */
  readonly url: string;
  readonly method?: string;
  readonly rps: number;
  readonly connections: number;
  readonly durationS: number;
  readonly timeoutS?: number;
  /** When every pod starts its load (epoch ms): `startAllowanceS` after the Job is created. */
  readonly startAtMs: number;
  readonly startAllowanceS: number;
  readonly labels?: Readonly<Record<string, string>>;
}

/** The batch/v1 Job of one loaded phase. */
export function renderLoadJob(input: LoadJobInput) {
  const labels = {
    "app.kubernetes.io/name": "load-worker",
    [LOAD_JOB_LABEL]: input.name,
    ...input.labels,
  };
  const r = LOAD_WORKER_RESOURCES;
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: input.name, namespace: input.namespace, labels },
    spec: {
      completionMode: "Indexed",
      completions: input.parallelism,
      parallelism: input.parallelism,
      // A failed worker is reported, not retried: a retry would load the SUT twice for that share.
      backoffLimit: 0,
      ttlSecondsAfterFinished: LOAD_JOB_TTL_S,
      // Started late or not at all, a pod is ended by this deadline, whatever became of the orchestrator.
      activeDeadlineSeconds: Math.ceil(input.durationS + input.startAllowanceS) + 300,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: "Never",
          ...(input.serviceAccountName ? { serviceAccountName: input.serviceAccountName } : {}),
          automountServiceAccountToken: false,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: LOAD_WORKER_UID,
            runAsGroup: LOAD_WORKER_UID,
            seccompProfile: { type: "RuntimeDefault" },
          },
          containers: [
            {
              name: "load-worker",
              image: input.image,
              // The image's ENTRYPOINT is `tini --` and its CMD `orchestrator serve`: args replace the CMD.
              args: [
                "orchestrator",
                "load-worker",
                "--url",
                input.url,
                "--method",
                input.method ?? "GET",
                "--rps",
                String(input.rps),
                "--connections",
                String(input.connections),
                "--duration",
                String(input.durationS),
                "--timeout",
                String(input.timeoutS ?? 10),
                "--index",
                "job",
                "--workers",
                String(input.parallelism),
                "--start-at",
                String(Math.round(input.startAtMs)),
              ],
              resources: {
                requests: {
                  cpu: cpuQuantity(r.requests.cpu_millis),
                  memory: memoryQuantity(r.requests.memory_bytes),
                },
                limits: {
                  cpu: cpuQuantity(r.limits.cpu_millis),
                  memory: memoryQuantity(r.limits.memory_bytes),
                },
              },
              securityContext: {
                runAsNonRoot: true,
                runAsUser: LOAD_WORKER_UID,
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                privileged: false,
                capabilities: { drop: ["ALL"] },
                seccompProfile: { type: "RuntimeDefault" },
              },
            },
          ],
        },
      },
    },
  };
}
