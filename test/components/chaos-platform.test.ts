/**
 * Chaos Mesh in the offline graph (Pulumi's mock runtime): per region for a tier whose plan injects
 * faults, nowhere else; the environment namespaces opened to it; the orchestrator's Role, its
 * token and its way to the API server. The chart is a Helm release: what it installs is not
 * rendered offline (no chart was fetched), so only the release's own inputs are checked here.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { captureStack } from "../../runners/infra/capture.js";
import { get, type CapturedGraph, type CapturedResource } from "../../runners/infra/graph.js";
import { checkGraph } from "../../runners/policy/check.js";
import { WORKFLOW_SERVICE_ACCOUNT } from "../../components/environment/workflow-options.js";
import { CHAOS_MESH_CHART } from "../../tiers/infra/chaos-mesh.js";
import { ARGO_POD_LABEL, LOAD_STEP_TEMPLATE } from "../../tiers/workflow/argo.js";

const graphs = new Map<string, CapturedGraph>();
beforeAll(async () => {
  for (const s of ["chaos", "base"]) graphs.set(s, await captureStack(s));
}, 240_000);

// The chaos tiers' own objects among the region's other releases and roles (Argo, autoscaling,
// monitoring, the load Jobs' Role).
const chaosReleases = (stack: string): CapturedResource[] =>
  of(stack, RELEASE).filter((r) => r.name.endsWith("-chaos-mesh"));
const chaosRoles = (stack: string): CapturedResource[] =>
  of(stack, ROLE).filter(
    (r) =>
      r.name.endsWith("-chaos-injector") ||
      (r.inputs.metadata !== undefined && (r.inputs.metadata as { name?: string }).name === "chaos-injector"),
  );
const of = (stack: string, type: string): CapturedResource[] =>
  graphs.get(stack)!.resources.filter((r) => r.type === type);
const RELEASE = "kubernetes:helm.sh/v3:Release";
const NAMESPACE = "kubernetes:core/v1:Namespace";
const ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role";
const BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding";

describe("the chaos stack", () => {
  it("installs Chaos Mesh once per region: the pinned chart, containerd's EKS socket, filtered namespaces", () => {
    const releases = chaosReleases("chaos");
    expect(releases.map((r) => r.name)).toStrictEqual(["us-east-1-chaos-mesh"]);
    const inputs = releases[0]!.inputs;
    expect(inputs).toMatchObject({
      name: "chaos-mesh",
      chart: "chaos-mesh",
      version: CHAOS_MESH_CHART.version,
      namespace: "chaos-mesh",
      createNamespace: false,
      repositoryOpts: { repo: "https://charts.chaos-mesh.org" },
    });
    expect(CHAOS_MESH_CHART.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(inputs.values).toStrictEqual({
      chaosDaemon: { runtime: "containerd", socketPath: "/run/containerd/containerd.sock" },
      controllerManager: { enableFilterNamespace: true },
      dashboard: { create: false },
    });
    const provider = graphs.get("chaos")!.resources.find((r) => r.urn === releases[0]!.provider);
    expect(provider?.name).toBe("us-east-1-k8s");
  });

  it("gives Chaos Mesh its own namespace, privileged under PSA, and annotates only the environment namespaces", () => {
    const namespaces = of("chaos", NAMESPACE);
    const chaosNs = namespaces.find((n) => get(n.inputs, "metadata.name") === "chaos-mesh")!;
    expect(get(chaosNs.inputs, "metadata.labels")).toMatchObject({
      "pod-security.kubernetes.io/enforce": "privileged",
    });
    const annotated = namespaces
      .filter(
        (n) =>
          (get(n.inputs, "metadata.annotations") as Record<string, string> | undefined)?.[
            "chaos-mesh.org/inject"
          ] === "enabled",
      )
      .map((n) => get(n.inputs, "metadata.name"));
    const envs = namespaces
      .filter(
        (n) =>
          (get(n.inputs, "metadata.labels") as Record<string, string>)["test-tiers/environment"] !==
          undefined,
      )
      .map((n) => get(n.inputs, "metadata.name"));
    expect(envs.length).toBeGreaterThan(0);
    expect(annotated.sort()).toStrictEqual(envs.sort());
    for (const n of namespaces.filter((x) => envs.includes(get(x.inputs, "metadata.name"))))
      expect(get(n.inputs, "metadata.labels")).toMatchObject({
        "pod-security.kubernetes.io/enforce": "restricted",
      });
  });

  it("grants each orchestrator exactly the five chaos kinds in its own namespace, and mounts its token", () => {
    const roles = chaosRoles("chaos");
    expect(roles.length).toBe(of("chaos", "tiers:environment:IsolatedEnvironment").length);
    for (const role of roles) {
      expect(role.inputs.rules).toStrictEqual([
        {
          apiGroups: ["chaos-mesh.org"],
          resources: ["podchaos", "networkchaos", "stresschaos", "timechaos", "iochaos"],
          verbs: ["create", "get", "list", "delete", "deletecollection"],
        },
      ]);
    }
    for (const b of of("chaos", BINDING).filter((x) => get(x.inputs, "roleRef.name") === "chaos-injector")) {
      const ns = get(b.inputs, "metadata.namespace");
      // The orchestrator, and the workflow's pods (their run-faults step runs the same injectors).
      expect(b.inputs.subjects).toStrictEqual([
        { kind: "ServiceAccount", name: "orchestrator", namespace: ns },
        { kind: "ServiceAccount", name: WORKFLOW_SERVICE_ACCOUNT, namespace: ns },
      ]);
      expect(b.inputs.roleRef).toStrictEqual({
        apiGroup: "rbac.authorization.k8s.io",
        kind: "Role",
        name: "chaos-injector",
      });
    }
    const orchestrators = of("chaos", "kubernetes:apps/v1:Deployment").filter((d) =>
      d.name.endsWith("-orchestrator"),
    );
    for (const d of orchestrators) {
      expect(get(d.inputs, "spec.template.spec.automountServiceAccountToken")).toBe(true);
      const env = get(d.inputs, "spec.template.spec.containers.0.env") as { name: string; value?: string }[];
      expect(env).toContainEqual({ name: "TIERS_FAULTS", value: "chaos-mesh" });
    }
    const sut = of("chaos", "kubernetes:apps/v1:Deployment").filter((d) => d.name.endsWith("-sut"));
    for (const d of sut) {
      expect(get(d.inputs, "spec.template.spec.automountServiceAccountToken")).toBe(false);
      expect(get(d.inputs, "spec.template.metadata.labels")).toMatchObject({
        "app.kubernetes.io/name": "sut",
      });
    }
  });

  it("runs the workflow's chaos phase faults as the chaos-injector's second subject: its run-faults pod mounts the token, with TIERS_FAULTS (and the load steps', for their Jobs)", () => {
    const templates = of("chaos", "kubernetes:argoproj.io/v1alpha1:WorkflowTemplate");
    expect(templates.length).toBe(chaosRoles("chaos").length);
    for (const t of templates) {
      expect(get(t.inputs, "spec.serviceAccountName")).toBe(WORKFLOW_SERVICE_ACCOUNT);
      expect(get(t.inputs, "spec.automountServiceAccountToken")).toBe(false);
      const all = get(t.inputs, "spec.templates") as Record<string, unknown>[];
      // The steps that call the API: the faults', and the load segments' (their load Jobs).
      expect(
        all.filter((x) => x.automountServiceAccountToken !== undefined).map((x) => x.name),
      ).toStrictEqual([LOAD_STEP_TEMPLATE, "run-faults"]);
      for (const x of all.filter((y) => y.container)) {
        const names = ((get(x, "container.env") ?? []) as { name: string }[]).map((v) => v.name);
        expect(names.includes("TIERS_FAULTS"), `${x.name as string}`).toBe(x.name === "run-faults");
        expect(names.includes("TIERS_LOAD_JOB_IMAGE"), `${x.name as string}`).toBe(
          x.name === LOAD_STEP_TEMPLATE,
        );
      }
      const faults = all.find((x) => x.name === "run-faults")!;
      expect(faults.automountServiceAccountToken).toBe(true);
      expect(get(faults, "container.args.0")).toBe("run-faults");
      expect(get(faults, "container.env") as unknown[]).toContainEqual({
        name: "TIERS_FAULTS",
        value: "chaos-mesh",
      });
      // Its pods carry the label the environment's API-server egress admits (network-policies.ts).
      expect(get(t.inputs, "spec.podMetadata.labels")).toMatchObject({ [ARGO_POD_LABEL]: "step" });
    }
    // A tier without faults renders no such step and grants the workflow nothing of chaos-mesh.org.
    for (const t of of("base", "kubernetes:argoproj.io/v1alpha1:WorkflowTemplate"))
      expect((get(t.inputs, "spec.templates") as { name: string }[]).map((x) => x.name)).not.toContain(
        "run-faults",
      );
    expect(chaosRoles("base")).toStrictEqual([]);
  });

  it("lets only the orchestrator reach the API server, inside the VPC", () => {
    const policies = of("chaos", "kubernetes:networking.k8s.io/v1:NetworkPolicy").filter((p) =>
      p.name.endsWith("-allow-kube-api"),
    );
    expect(policies.length).toBe(chaosRoles("chaos").length);
    for (const p of policies) {
      expect(get(p.inputs, "spec.podSelector")).toStrictEqual({
        matchLabels: { "app.kubernetes.io/name": "orchestrator" },
      });
      expect(get(p.inputs, "spec.egress.0.to")).toStrictEqual([{ ipBlock: { cidr: "10.30.0.0/16" } }]);
    }
  });

  it("passes the policy pack", async () => {
    const check = await checkGraph(graphs.get("chaos")!);
    expect(check.violations).toStrictEqual([]);
    expect(check.applied["cross-namespace-binding"]).toBeGreaterThan(0);
    expect(check.applied["host-access"]).toBeGreaterThan(0);
  });
});

describe("a tier without the chaos phase (base)", () => {
  it("has no Chaos Mesh, no chaos Role, no annotation; only the orchestrator reaches the API (its load Jobs)", () => {
    expect(chaosReleases("base")).toStrictEqual([]);
    expect(chaosRoles("base")).toStrictEqual([]);
    expect(
      of("base", NAMESPACE).filter(
        (n) =>
          (get(n.inputs, "metadata.annotations") as Record<string, string> | undefined)?.[
            "chaos-mesh.org/inject"
          ],
      ),
    ).toStrictEqual([]);
    const deployments = of("base", "kubernetes:apps/v1:Deployment");
    expect(deployments.length).toBeGreaterThan(1);
    for (const d of deployments)
      expect(get(d.inputs, "spec.template.spec.automountServiceAccountToken")).toBe(
        get(d.inputs, "metadata.name") === "orchestrator",
      );
    // What that token may do: the load Job Role, nothing of Chaos Mesh.
    expect(
      of("base", "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding").map((b) =>
        get(b.inputs, "roleRef.name"),
      ),
    ).not.toContain("chaos-injector");
  });
});
