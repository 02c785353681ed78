/** Jobs: a TTL after they finish (job-ttl), and jobProblems for Job bodies rendered outside Pulumi. */
import { describe, expect, it } from "vitest";
import { jobProblems } from "../../../policies/lib/jobs.js";
import { jobTtl } from "../../../policies/rules/job-ttl.js";
import { fake, messages, validateResource } from "../fake-args.js";

const container = {
  name: "load",
  image: "ghcr.io/test-tiers/orchestrator:0.1.0",
  resources: { requests: { cpu: "500m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } },
  securityContext: { runAsNonRoot: true, runAsUser: 10001 },
};
const jobSpec = (extra: Record<string, unknown> = {}, c: Record<string, unknown> = container) => ({
  ttlSecondsAfterFinished: 600,
  ...extra,
  template: { spec: { restartPolicy: "Never", containers: [c] } },
});
const job = (spec: Record<string, unknown>) =>
  fake("kubernetes:batch/v1:Job", "load", { metadata: { name: "load", namespace: "tiers-env-1" }, spec });

describe("job-ttl", () => {
  it("passes a Job with a TTL, and a CronJob whose job template has one", async () => {
    expect((await validateResource(jobTtl, job(jobSpec()))).violations).toStrictEqual([]);
    const cron = fake("kubernetes:batch/v1:CronJob", "nightly", {
      metadata: { name: "nightly", namespace: "tiers-env-1" },
      spec: { schedule: "0 3 * * *", jobTemplate: { spec: jobSpec() } },
    });
    expect((await validateResource(jobTtl, cron)).violations).toStrictEqual([]);
  });

  it("reports a Job without a TTL, naming it and the fix", async () => {
    const { ttlSecondsAfterFinished: _, ...noTtl } = jobSpec();
    expect(await messages(validateResource(jobTtl, job(noTtl)))).toStrictEqual([
      "Job tiers-env-1/load: has no ttlSecondsAfterFinished (finished Jobs are kept for ever); set spec.ttlSecondsAfterFinished (seconds, e.g. 3600)",
    ]);
  });

  it.each([[-1], [1.5], ["600"]])("reports a TTL of %j as not a whole number of seconds", async (ttl) => {
    const m = await messages(validateResource(jobTtl, job(jobSpec({ ttlSecondsAfterFinished: ttl }))));
    expect(m).toHaveLength(1);
    expect(m[0]).toContain(`has ttlSecondsAfterFinished ${JSON.stringify(ttl)}, not a whole number`);
  });

  it("is not applicable to a Deployment", async () => {
    const d = fake("kubernetes:apps/v1:Deployment", "sut", { metadata: { name: "sut" }, spec: {} });
    const o = await validateResource(jobTtl, d);
    expect(o.violations).toStrictEqual([]);
    expect(o.notApplicable).toBeDefined();
  });
});

describe("jobProblems: a rendered Job body against the pack's Job rules", () => {
  const body = (spec: Record<string, unknown>) => ({ apiVersion: "batch/v1", kind: "Job", spec });
  it("finds nothing in a compliant Job", () => {
    expect(jobProblems(body(jobSpec()))).toStrictEqual([]);
  });
  it("names every rule a Job breaks", () => {
    const { ttlSecondsAfterFinished: _, ...noTtl } = jobSpec(
      {},
      { name: "load", image: "x:1", resources: { requests: { cpu: "1" } } },
    );
    expect(jobProblems(body(noTtl))).toStrictEqual([
      "job-ttl: has no ttlSecondsAfterFinished (finished Jobs are kept for ever)",
      "container-resources: container load has no requests.memory, limits.cpu, limits.memory",
      "container-non-root: container load may run as root (runAsNonRoot is not true)",
    ]);
  });
  it("refuses uid 0 even with runAsNonRoot on the pod", () => {
    const spec = jobSpec();
    (spec.template.spec as Record<string, unknown>).securityContext = { runAsNonRoot: true };
    (spec.template.spec.containers[0] as Record<string, unknown>).securityContext = { runAsUser: 0 };
    expect(jobProblems(body(spec))).toStrictEqual(["container-non-root: container load runs as uid 0"]);
  });
});
