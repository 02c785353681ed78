/** Isolation: default deny, no exposure, no host access, no binding across namespaces. */
import { describe, expect, it } from "vitest";
import { crossNamespaceBinding } from "../../../policies/rules/cross-namespace-binding.js";
import { environmentDefaultDeny } from "../../../policies/rules/environment-default-deny.js";
import { environmentNoExposure } from "../../../policies/rules/environment-no-exposure.js";
import { hostAccess } from "../../../policies/rules/host-access.js";
import { fake, messages, validateResource, validateStack, type FakeResource } from "../fake-args.js";

const NAMESPACE = "kubernetes:core/v1:Namespace";
const NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const SERVICE = "kubernetes:core/v1:Service";
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const DAEMONSET = "kubernetes:apps/v1:DaemonSet";
const ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding";
const CLUSTER_ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding";

const envNamespace = (name: string, env: string): FakeResource =>
  fake(NAMESPACE, `${env}-ns`, { metadata: { name, labels: { "test-tiers/environment": env } } });
const platformNamespace = (name: string): FakeResource => fake(NAMESPACE, name, { metadata: { name } });
const netpol = (name: string, namespace: string, spec: Record<string, unknown>): FakeResource =>
  fake(NETPOL, `${namespace}-${name}`, { metadata: { name, namespace }, spec });
const DENY_ALL = { podSelector: {}, policyTypes: ["Ingress", "Egress"] };

describe("environment-default-deny", () => {
  const ns = envNamespace("tiers-env-1", "env-1");

  it.each<[string, FakeResource[]]>([
    ["one policy denying both directions", [netpol("default-deny", "tiers-env-1", DENY_ALL)]],
    [
      "separate ingress and egress denials, next to allowances",
      [
        netpol("deny-in", "tiers-env-1", { podSelector: {}, policyTypes: ["Ingress"] }),
        netpol("deny-out", "tiers-env-1", {
          podSelector: { matchLabels: {} },
          policyTypes: ["Egress"],
          egress: [],
        }),
        netpol("allow-dns", "tiers-env-1", {
          podSelector: {},
          policyTypes: ["Egress"],
          egress: [{ to: [{}] }],
        }),
      ],
    ],
  ])("passes %s", async (_name, policies) => {
    expect(await validateStack(environmentDefaultDeny, [ns, ...policies])).toStrictEqual({ violations: [] });
  });

  it.each<[string, FakeResource[], string]>([
    [
      "no policy at all",
      [],
      "namespace tiers-env-1 has no NetworkPolicy that denies all ingress and egress; add one with podSelector: {}, policyTypes: [Ingress, Egress] and no ingress or egress rules",
    ],
    [
      "policyTypes unset (Kubernetes then denies ingress only)",
      [netpol("deny", "tiers-env-1", { podSelector: {} })],
      "namespace tiers-env-1 has no NetworkPolicy that denies all egress; add one with podSelector: {}, policyTypes: [Egress] and no egress rules",
    ],
    [
      "a deny-all whose ingress has a rule",
      [netpol("deny", "tiers-env-1", { ...DENY_ALL, ingress: [{ from: [{ podSelector: {} }] }] })],
      "namespace tiers-env-1 has no NetworkPolicy that denies all ingress; add one with podSelector: {}, policyTypes: [Ingress] and no ingress rules",
    ],
    [
      "a policy selecting only some pods",
      [netpol("deny", "tiers-env-1", { ...DENY_ALL, podSelector: { matchLabels: { app: "sut" } } })],
      "namespace tiers-env-1 has no NetworkPolicy that denies all ingress and egress; add one with podSelector: {}, policyTypes: [Ingress, Egress] and no ingress or egress rules",
    ],
    [
      "the deny in another namespace",
      [netpol("deny", "tiers-env-2", DENY_ALL)],
      "namespace tiers-env-1 has no NetworkPolicy that denies all ingress and egress; add one with podSelector: {}, policyTypes: [Ingress, Egress] and no ingress or egress rules",
    ],
  ])("reports %s once, on the namespace", async (_name, policies, message) => {
    expect(await validateStack(environmentDefaultDeny, [ns, ...policies])).toStrictEqual({
      violations: [{ message, urn: ns.urn }],
    });
  });

  it("leaves namespaces without the environment label alone, and is not applicable without any", async () => {
    expect(await validateStack(environmentDefaultDeny, [platformNamespace("monitoring")])).toStrictEqual({
      violations: [],
      notApplicable: "the stack has no environment namespace",
    });
  });
});

describe("environment-no-exposure", () => {
  const ns = envNamespace("tiers-env-1", "env-1");
  const service = (namespace: string, type?: string): FakeResource =>
    fake(SERVICE, `${namespace}-sut`, {
      metadata: { name: "sut", namespace },
      spec: { ...(type ? { type } : {}), ports: [{ port: 8080 }] },
    });

  it.each([undefined, "ClusterIP"])("passes a Service of type %s", async (type) => {
    expect(await validateStack(environmentNoExposure, [ns, service("tiers-env-1", type)])).toStrictEqual({
      violations: [],
    });
  });

  it.each(["LoadBalancer", "NodePort"])("reports a %s Service in an environment namespace", async (type) => {
    const svc = service("tiers-env-1", type);
    expect(await validateStack(environmentNoExposure, [ns, svc])).toStrictEqual({
      violations: [
        {
          message: `Service tiers-env-1/sut is of type ${type}, which exposes environment env-1 outside the cluster; use type ClusterIP (reach it with kubectl port-forward)`,
          urn: svc.urn,
        },
      ],
    });
  });

  it("leaves a LoadBalancer outside the environment namespaces alone", async () => {
    expect(
      await validateStack(environmentNoExposure, [ns, service("ingress-nginx", "LoadBalancer")]),
    ).toStrictEqual({ violations: [] });
  });
});

describe("host-access", () => {
  const workload = (
    type: string,
    namespace: string,
    pod: Record<string, unknown>,
    labels: Record<string, string> = {},
  ): FakeResource =>
    fake(type, `${namespace}-agent`, {
      metadata: { name: "agent", namespace, labels },
      spec: { template: { spec: { containers: [{ name: "agent", image: "x:1" }], ...pod } } },
    });

  it("passes a workload that stays in its pod", async () => {
    expect(await validateResource(hostAccess, workload(DEPLOYMENT, "tiers-env-1", {}))).toStrictEqual({
      violations: [],
    });
  });

  it("reports every way a pod reaches its node, in one message", async () => {
    const r = workload(DEPLOYMENT, "tiers-env-1", {
      hostNetwork: true,
      hostPID: true,
      hostIPC: true,
      volumes: [
        { name: "proc", hostPath: { path: "/proc" } },
        { name: "tmp", emptyDir: {} },
      ],
      containers: [
        {
          name: "agent",
          image: "x:1",
          securityContext: { privileged: true },
          ports: [{ containerPort: 9100, hostPort: 9100 }],
        },
      ],
      initContainers: [{ name: "setup", image: "x:1", securityContext: { privileged: false } }],
    });
    expect(await messages(validateResource(hostAccess, r))).toStrictEqual([
      "Deployment tiers-env-1/agent: hostNetwork: true, hostPID: true, hostIPC: true, hostPath volume proc (/proc), container agent is privileged, container agent binds hostPort 9100; remove them (only workloads in chaos-mesh or monitoring may reach the node, never an environment's)",
    ]);
  });

  it("exempts the documented platform namespaces (node-exporter in monitoring)", async () => {
    const exporter = workload(DAEMONSET, "monitoring", { hostNetwork: true, hostPID: true });
    expect(await validateResource(hostAccess, exporter)).toStrictEqual({ violations: [] });
  });

  it("never exempts an environment's object, even in an exempt namespace", async () => {
    const r = workload(DAEMONSET, "monitoring", { hostNetwork: true }, { "test-tiers/environment": "env-1" });
    expect(await messages(validateResource(hostAccess, r))).toStrictEqual([
      "DaemonSet monitoring/agent: hostNetwork: true; remove it (only workloads in chaos-mesh or monitoring may reach the node, never an environment's)",
    ]);
  });

  it("takes the exception list from its config", async () => {
    const r = workload(DAEMONSET, "monitoring", { hostNetwork: true });
    expect(
      await messages(
        validateResource(hostAccess, r, { config: { "host-access": { exemptNamespaces: [] } } }),
      ),
    ).toStrictEqual([
      "DaemonSet monitoring/agent: hostNetwork: true; remove it (only workloads in no namespace may reach the node, never an environment's)",
    ]);
  });

  it("is not applicable to what has no pod spec", async () => {
    expect(
      await validateResource(hostAccess, fake(SERVICE, "svc", { metadata: { name: "svc" } })),
    ).toStrictEqual({
      violations: [],
      notApplicable: "not a workload",
    });
  });
});

describe("cross-namespace-binding", () => {
  const env1 = envNamespace("tiers-env-1", "env-1");
  const binding = (
    type: string,
    name: string,
    namespace: string | undefined,
    subjects: unknown[],
  ): FakeResource =>
    fake(type, name, {
      metadata: { name, ...(namespace ? { namespace } : {}) },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" },
      subjects,
    });

  it("passes bindings of a namespace's own subjects, and cluster bindings of platform accounts", async () => {
    const resources = [
      env1,
      binding(ROLE_BINDING, "own", "tiers-env-1", [
        { kind: "ServiceAccount", name: "orchestrator" },
        { kind: "ServiceAccount", name: "sut", namespace: "tiers-env-1" },
        { kind: "Group", name: "system:serviceaccounts:tiers-env-1" },
        { kind: "User", name: "jane@example.com" },
      ]),
      binding(CLUSTER_ROLE_BINDING, "prometheus", undefined, [
        { kind: "ServiceAccount", name: "prometheus", namespace: "monitoring" },
      ]),
    ];
    expect(await validateStack(crossNamespaceBinding, resources)).toStrictEqual({ violations: [] });
  });

  it.each<[string, FakeResource, string]>([
    [
      "a RoleBinding of another namespace's ServiceAccount",
      binding(ROLE_BINDING, "peek", "tiers-env-1", [
        { kind: "ServiceAccount", name: "orchestrator", namespace: "tiers-env-2" },
      ]),
      "RoleBinding tiers-env-1/peek binds ServiceAccount tiers-env-2/orchestrator of another namespace; bind only subjects of tiers-env-1",
    ],
    [
      "a RoleBinding of every namespace's service accounts and of another namespace's group",
      binding(ROLE_BINDING, "wide", "tiers-env-1", [
        { kind: "Group", name: "system:serviceaccounts" },
        { kind: "Group", name: "system:serviceaccounts:tiers-env-2" },
      ]),
      "RoleBinding tiers-env-1/wide binds Group system:serviceaccounts, which spans every namespace and Group system:serviceaccounts:tiers-env-2 of another namespace; bind only subjects of tiers-env-1",
    ],
    [
      "a ClusterRoleBinding of an environment's ServiceAccount",
      binding(CLUSTER_ROLE_BINDING, "everywhere", undefined, [
        { kind: "ServiceAccount", name: "orchestrator", namespace: "tiers-env-1" },
      ]),
      "ClusterRoleBinding everywhere grants ServiceAccount tiers-env-1/orchestrator (an environment's service accounts) rights in every namespace; use a RoleBinding in the environment's namespace",
    ],
  ])("reports %s, once, on the binding", async (_name, r, message) => {
    expect(await validateStack(crossNamespaceBinding, [env1, r])).toStrictEqual({
      violations: [{ message, urn: r.urn }],
    });
  });

  it("is not applicable without bindings", async () => {
    expect(await validateStack(crossNamespaceBinding, [env1])).toStrictEqual({
      violations: [],
      notApplicable: "the stack has no RoleBinding or ClusterRoleBinding",
    });
  });
});
