/** Workload hygiene: resources, non-root, read-only root, pinned images, probes. */
import { describe, expect, it } from "vitest";
import { containerNonRoot } from "../../../policies/rules/container-non-root.js";
import { containerReadOnlyRoot } from "../../../policies/rules/container-read-only-root.js";
import { containerResources } from "../../../policies/rules/container-resources.js";
import { pinnedImages } from "../../../policies/rules/pinned-images.js";
import { workloadProbes } from "../../../policies/rules/workload-probes.js";
import { fake, messages, validateResource, type FakeResource } from "../fake-args.js";

const probe = { httpGet: { path: "/healthz", port: "http" } };
/** A container that passes every workload policy. */
const good = (name = "sut"): Record<string, unknown> => ({
  name,
  image: "ghcr.io/test-tiers/sut:0.1.0",
  resources: { requests: { cpu: "500m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } },
  securityContext: { runAsNonRoot: true, runAsUser: 10001, readOnlyRootFilesystem: true },
  readinessProbe: probe,
  livenessProbe: probe,
});

const POD_PATHS: Record<string, (pod: Record<string, unknown>) => Record<string, unknown>> = {
  "kubernetes:apps/v1:Deployment": (pod) => ({ template: { spec: pod } }),
  "kubernetes:apps/v1:StatefulSet": (pod) => ({ template: { spec: pod } }),
  "kubernetes:apps/v1:DaemonSet": (pod) => ({ template: { spec: pod } }),
  "kubernetes:batch/v1:Job": (pod) => ({ template: { spec: pod } }),
  "kubernetes:batch/v1:CronJob": (pod) => ({ jobTemplate: { spec: { template: { spec: pod } } } }),
  "kubernetes:core/v1:Pod": (pod) => pod,
};

function workload(
  pod: Record<string, unknown>,
  type = "kubernetes:apps/v1:Deployment",
  namespace = "tiers-env-1",
): FakeResource {
  return fake(type, `${namespace}-sut`, {
    metadata: { name: "sut", namespace },
    spec: POD_PATHS[type]!(pod),
  });
}

const ALL = [containerResources, containerNonRoot, containerReadOnlyRoot, pinnedImages, workloadProbes];

describe.each(Object.keys(POD_PATHS))("a compliant %s", (type) => {
  it.each(ALL.map((p) => [p.name, p] as const))("passes %s", async (_name, policy) => {
    const r = workload(
      { containers: [good()], initContainers: [{ ...good("init"), readinessProbe: undefined }] },
      type,
    );
    const o = await validateResource(policy, r);
    expect(o.violations).toStrictEqual([]);
  });
});

describe.each(ALL.map((p) => [p.name, p] as const))("%s", (_name, policy) => {
  it("is not applicable to a ConfigMap", async () => {
    const o = await validateResource(
      policy,
      fake("kubernetes:core/v1:ConfigMap", "cm", { metadata: { name: "cm" } }),
    );
    expect(o.violations).toStrictEqual([]);
    expect(o.notApplicable).toMatch(/^not a (long-running )?workload$/);
  });
});

describe("container-resources", () => {
  it("names each container and each missing figure, once for the workload", async () => {
    const r = workload({
      containers: [
        { ...good(), resources: { requests: { cpu: "500m", memory: "512Mi" } } },
        { ...good("side"), resources: {} },
      ],
      initContainers: [
        {
          ...good("init"),
          resources: { requests: { cpu: "", memory: "64Mi" }, limits: { cpu: "1", memory: "1Gi" } },
        },
      ],
    });
    expect(await messages(validateResource(containerResources, r))).toStrictEqual([
      "Deployment tiers-env-1/sut: container sut has no limits.cpu and limits.memory; container side has no requests.cpu, requests.memory, limits.cpu and limits.memory; init container init has no requests.cpu; set resources.requests and resources.limits for cpu and memory on every container",
    ]);
  });
});

describe("container-non-root", () => {
  it.each<[string, Record<string, unknown>, string]>([
    [
      "runAsNonRoot missing everywhere",
      { containers: [{ ...good(), securityContext: { readOnlyRootFilesystem: true } }] },
      "Deployment tiers-env-1/sut: container sut may run as root (runAsNonRoot is not true); set securityContext.runAsNonRoot: true and a non-zero runAsUser",
    ],
    [
      "uid 0 on the pod",
      {
        securityContext: { runAsUser: 0 },
        containers: [{ ...good(), securityContext: { runAsNonRoot: true } }],
      },
      "Deployment tiers-env-1/sut: container sut runs as uid 0; set securityContext.runAsNonRoot: true and a non-zero runAsUser",
    ],
    [
      "the container overriding the pod's non-root",
      {
        securityContext: { runAsNonRoot: true },
        containers: [{ ...good(), securityContext: { runAsNonRoot: false } }],
      },
      "Deployment tiers-env-1/sut: container sut may run as root (runAsNonRoot is not true); set securityContext.runAsNonRoot: true and a non-zero runAsUser",
    ],
  ])("reports %s", async (_name, pod, message) => {
    expect(await messages(validateResource(containerNonRoot, workload(pod)))).toStrictEqual([message]);
  });

  it("takes runAsNonRoot from the pod when the container states none", async () => {
    const pod = {
      securityContext: { runAsNonRoot: true, runAsUser: 10001 },
      containers: [{ ...good(), securityContext: {} }],
    };
    expect(await messages(validateResource(containerNonRoot, workload(pod)))).toStrictEqual([]);
  });

  it("exempts the chaos daemon's namespace", async () => {
    const pod = { containers: [{ ...good(), securityContext: { runAsUser: 0 } }] };
    expect(
      await messages(
        validateResource(containerNonRoot, workload(pod, "kubernetes:apps/v1:DaemonSet", "chaos-mesh")),
      ),
    ).toStrictEqual([]);
  });
});

describe("container-read-only-root", () => {
  it("lists every writable container", async () => {
    const pod = {
      containers: [
        { ...good(), securityContext: { readOnlyRootFilesystem: false } },
        { ...good("side"), securityContext: {} },
      ],
    };
    expect(await messages(validateResource(containerReadOnlyRoot, workload(pod)))).toStrictEqual([
      "Deployment tiers-env-1/sut: container sut and container side have a writable root filesystem; set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where it must write (/tmp)",
    ]);
  });
});

describe("pinned-images", () => {
  it.each([
    [
      "ghcr.io/test-tiers/sut:latest",
      'container sut: image "ghcr.io/test-tiers/sut:latest" uses the latest tag, which is not a pinned version',
    ],
    [
      "ghcr.io/test-tiers/sut",
      'container sut: image "ghcr.io/test-tiers/sut" has no tag or digest, so it follows whatever is pushed last',
    ],
    ["Not An Image", 'container sut: image "Not An Image" is not an image reference'],
  ])("reports %s", async (image, problem) => {
    expect(
      await messages(validateResource(pinnedImages, workload({ containers: [{ ...good(), image }] }))),
    ).toStrictEqual([
      `Deployment tiers-env-1/sut: ${problem}; use a version tag (repo:1.2.3) or a digest (repo@sha256:…)`,
    ]);
  });

  it("accepts a digest", async () => {
    const image = `ghcr.io/test-tiers/sut@sha256:${"a".repeat(64)}`;
    expect(
      await messages(validateResource(pinnedImages, workload({ containers: [{ ...good(), image }] }))),
    ).toStrictEqual([]);
  });

  it("reports a container without an image", async () => {
    const { image: _image, ...noImage } = good();
    expect(await messages(validateResource(pinnedImages, workload({ containers: [noImage] })))).toStrictEqual(
      [
        "Deployment tiers-env-1/sut: container sut has no image; use a version tag (repo:1.2.3) or a digest (repo@sha256:…)",
      ],
    );
  });
});

describe("workload-probes", () => {
  it("asks long-running workloads for both probes on every container, not on init containers", async () => {
    const pod = {
      containers: [
        { ...good(), livenessProbe: undefined },
        { ...good("side"), readinessProbe: undefined, livenessProbe: undefined },
      ],
      initContainers: [{ ...good("init"), readinessProbe: undefined, livenessProbe: undefined }],
    };
    expect(
      await messages(validateResource(workloadProbes, workload(pod, "kubernetes:apps/v1:StatefulSet"))),
    ).toStrictEqual([
      "StatefulSet tiers-env-1/sut: container sut has no livenessProbe; container side has no readinessProbe and livenessProbe; give every container a readinessProbe and a livenessProbe",
    ]);
  });

  it.each(["kubernetes:batch/v1:Job", "kubernetes:batch/v1:CronJob", "kubernetes:core/v1:Pod"])(
    "does not apply to %s (not a controller that keeps pods running)",
    async (type) => {
      const o = await validateResource(
        workloadProbes,
        workload({ containers: [{ name: "once", image: "x:1" }] }, type),
      );
      expect(o).toStrictEqual({ violations: [], notApplicable: "not a long-running workload" });
    },
  );
});
