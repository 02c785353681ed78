/**
 * batch/v1 Jobs as the pack checks them, also outside a Pulumi program: `jobProblems` takes a Job
 * body (what the orchestrator sends to the Kubernetes API) and returns every problem the pack's Job
 * rules would report — job-ttl, container-resources, container-non-root.
 */
import { containerProblems, podSpecOf } from "./kubernetes.js";
import { get, type Props } from "./props.js";

export const JOB_TYPE = "kubernetes:batch/v1:Job";
export const CRON_JOB_TYPE = "kubernetes:batch/v1:CronJob";

/** `null`: not a Job; `undefined`: its TTL is set; else what is wrong. */
export function jobTtlProblem(type: string, props: Props): string | null | undefined {
  const path =
    type === JOB_TYPE
      ? ["spec", "ttlSecondsAfterFinished"]
      : type === CRON_JOB_TYPE
        ? ["spec", "jobTemplate", "spec", "ttlSecondsAfterFinished"]
        : null;
  if (!path) return null;
  const ttl = get(props, path);
  if (ttl === undefined || ttl === null)
    return "has no ttlSecondsAfterFinished (finished Jobs are kept for ever)";
  if (typeof ttl !== "number" || !Number.isInteger(ttl) || ttl < 0)
    return `has ttlSecondsAfterFinished ${JSON.stringify(ttl)}, not a whole number of seconds ≥ 0`;
  return undefined;
}

const RESOURCES = ["requests.cpu", "requests.memory", "limits.cpu", "limits.memory"] as const;

/** Every problem of a Job body (apiVersion batch/v1, kind Job) against the pack's Job rules. */
export function jobProblems(body: Props): string[] {
  const problems: string[] = [];
  const ttl = jobTtlProblem(JOB_TYPE, body);
  if (ttl) problems.push(`job-ttl: ${ttl}`);
  const pod = podSpecOf(JOB_TYPE, body);
  if (!pod) return [...problems, "the Job has no spec.template.spec"];
  for (const p of containerProblems(pod, (c) => {
    const missing = RESOURCES.filter((r) => {
      const v = get(c.spec, ["resources", ...r.split(".")]);
      return v === undefined || v === null || v === "";
    });
    return missing.length ? `container-resources: ${c.label} has no ${missing.join(", ")}` : undefined;
  }))
    problems.push(p);
  const setting = (c: { spec: Props }, key: string): unknown =>
    get(c.spec, ["securityContext", key]) ?? get(pod, ["securityContext", key]);
  for (const p of containerProblems(pod, (c) => {
    const user = setting(c, "runAsUser");
    if (user === 0 || user === "0") return `container-non-root: ${c.label} runs as uid 0`;
    return setting(c, "runAsNonRoot") !== true
      ? `container-non-root: ${c.label} may run as root (runAsNonRoot is not true)`
      : undefined;
  }))
    problems.push(p);
  return problems;
}
