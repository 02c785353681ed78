/**
 * The whole Pulumi program, run under Pulumi's mock runtime for every shipped stack file, and what
 * the issue says must hold, asserted on the registered graph.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { ARGO_POD_LABEL, LOAD_STEP_TEMPLATE, phaseStepIds } from "../../tiers/workflow/argo.js";
import { WORKFLOW_SERVICE_ACCOUNT } from "../../components/environment/workflow-options.js";
import { STACKS_DIR } from "../../stacks/config/source.js";
import { captureStack } from "../../runners/infra/capture.js";
import {
  get,
  isProviderType,
  SECRET_MARKER,
  type CapturedGraph,
  type CapturedResource,
} from "../../runners/infra/graph.js";
import { MOCK_SECRET_PREFIX } from "../../runners/infra/mock-state.js";
import { loadCatalog } from "../../tiers/catalog.js";
import { INSTANCE_TYPES } from "../../tiers/infra/instance-types.js";
import { LOAD_WORKER_CAPACITY_RPS, LOAD_WORKER_RESOURCES } from "../../tiers/infra/load-job.js";
import { imagePinProblem } from "../../tiers/infra/image-ref.js";
import { parseBytes } from "../../tiers/units.js";
import type { CyclePlan } from "../../tiers/plan/schema.js";
import type { TierName } from "../../tiers/schema/names.js";
import { allows, list, type Statement } from "../components/iam-match.js";
import { get as pget } from "../../policies/lib/props.js";
import { GraphView, packageOf, type PlainContainer } from "./graph-view.js";

const catalog = loadCatalog();
// The tier stacks; the central analysis stack has its own test (central-stack.test.ts).
const SHIPPED = readdirSync(STACKS_DIR)
  .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
  .filter((s): s is string => s !== undefined && s !== "central")
  .sort();

const graphs = new Map<string, GraphView>();

beforeAll(async () => {
  const captured = await Promise.all(SHIPPED.map(async (s) => [s, await captureStack(s)] as const));
  for (const [s, g] of captured) graphs.set(s, new GraphView(g));
}, 180_000);

interface StackOutputs {
  tier: TierName;
  mode: "eks" | "kubeconfig";
  regions: Record<string, { roles: string[]; clusterName?: string; bundleBucket?: string; context?: string }>;
  environments: Record<
    string,
    {
      region: string;
      role: string;
      namespace: string;
      orchestratorService: string;
      orchestratorUrl: string;
      bundleBucket?: string;
      bundlePrefix?: string;
      signingPublicKeyPem: string;
    }
  >;
  kubeconfigs: unknown;
  apiTokens: unknown;
}
const view = (stack: string): GraphView => graphs.get(stack)!;
const outputs = (stack: string): StackOutputs => view(stack).graph.outputs as StackOutputs;
const REGION_COMPONENTS = [
  "tiers:network:RegionNetwork",
  "tiers:cluster:RegionCluster",
  "tiers:storage:BundleStore",
];

it("ships the five stacks the issue names", () => {
  expect(SHIPPED).toStrictEqual(["base", "chaos", "local", "stress", "ultimate"]);
});

describe.each(SHIPPED)("stack %s", (stack) => {
  it("runs the whole program and registers a graph with stack outputs", () => {
    const g: CapturedGraph = view(stack).graph;
    expect(g.error).toBeUndefined();
    expect(g.ok).toBe(true);
    expect(g.root).toBe(`urn:pulumi:${stack}::test-tiers::pulumi:pulumi:Stack::test-tiers-${stack}`);
    expect(g.resources.filter((r) => r.type === "tiers:tier:TestTier")).toHaveLength(1);
    expect(outputs(stack).tier).toBe(
      (
        parse(readFileSync(join(STACKS_DIR, `Pulumi.${stack}.yaml`), "utf8")) as {
          config: Record<string, unknown>;
        }
      ).config["test-tiers:tier"],
    );
  });

  it("disables default providers in its stack file", () => {
    const file = parse(readFileSync(join(STACKS_DIR, `Pulumi.${stack}.yaml`), "utf8")) as {
      config: Record<string, unknown>;
    };
    expect(file.config["pulumi:disable-default-providers"]).toStrictEqual(["*"]);
  });

  it("gives every resource an explicit provider of its own package", () => {
    const v = view(stack);
    const objects = v.objects();
    expect(objects.length).toBeGreaterThan(20);
    for (const r of objects) {
      const p = v.providerOf(r);
      expect(p, `${r.urn} has no provider`).toBeDefined();
      expect(p!.type, r.urn).toBe(`pulumi:providers:${packageOf(r.type)}`);
      expect(p!.name, `${r.urn} uses a default provider`).not.toMatch(/^default/);
    }
  });

  it("puts every AWS object under its region's provider and every Kubernetes object under its region's cluster", () => {
    const v = view(stack);
    const out = outputs(stack);
    for (const r of v.objects()) {
      const pkg = packageOf(r.type);
      const p = v.providerOf(r)!;
      if (pkg === "aws") {
        const owner = v.nearest(r, REGION_COMPONENTS);
        if (owner) expect(v.providerInput(p, "region"), r.urn).toBe(owner.name);
        else {
          // Only the cross-region VPC peering (ultimate) sits outside one region's components; each
          // side of it is under that side's region provider.
          expect(r.name, r.urn).toMatch(/-peering-/);
          expect(Object.keys(out.regions), r.urn).toContain(v.providerInput(p, "region"));
        }
      } else if (pkg === "kubernetes") {
        const env = v.nearest(r, ["tiers:environment:IsolatedEnvironment"]);
        const region = env
          ? out.environments[env.name]!.region
          : v.nearest(r, ["tiers:cluster:RegionCluster", "tiers:platform:RegionPlatform"])!.name;
        expect(v.nearest(p, ["tiers:cluster:RegionCluster"])!.name, r.urn).toBe(region);
        // A Helm release has no metadata of its own: its chart's objects are labelled by the chart.
        if (env && r.type !== "kubernetes:helm.sh/v3:Release")
          expect(get(r.inputs, "metadata.labels"), r.urn).toMatchObject({
            "test-tiers/region": region,
            "test-tiers/environment": env.name,
          });
      }
    }
    const awsRegions = v.ofType("pulumi:providers:aws").map((p) => v.providerInput(p, "region"));
    expect(awsRegions.sort()).toStrictEqual(out.mode === "eks" ? Object.keys(out.regions).sort() : []);
    expect(v.ofType("pulumi:providers:kubernetes")).toHaveLength(Object.keys(out.regions).length);
  });

  it("sizes each region's node group from the tier catalog, figure by figure", () => {
    const v = view(stack);
    const out = outputs(stack);
    const nodeGroups = v.ofType("aws:eks/nodeGroup:NodeGroup");
    if (out.mode === "kubeconfig") {
      expect(nodeGroups).toStrictEqual([]);
      expect(v.objects().filter((r) => packageOf(r.type) === "aws")).toStrictEqual([]);
      return;
    }
    const tier = catalog.tiers[out.tier];
    const heaviest = tier.phases.filter((p) => catalog.phases[p].scaling !== null).at(-1)!;
    expect(nodeGroups.map((n) => v.nearest(n, ["tiers:cluster:RegionCluster"])!.name).sort()).toStrictEqual(
      Object.keys(out.regions).sort(),
    );
    for (const ng of nodeGroups) {
      expect(ng.inputs.scalingConfig).toStrictEqual({
        minSize: tier.compute.instances,
        desiredSize: tier.compute.instances,
        maxSize: Math.max(tier.compute.instances, catalog.phases[heaviest].scaling!.instances),
      });
      const [typeName] = ng.inputs.instanceTypes as string[];
      const type = INSTANCE_TYPES.find((t) => t.name === typeName)!;
      expect(type.vcpu).toBe(tier.compute.cpu_cores);
      expect(type.memoryGiB * 2 ** 30).toBeGreaterThanOrEqual(tier.compute.memory_gb * 1e9);
      const smaller = INSTANCE_TYPES.filter(
        (t) =>
          t.vcpu >= tier.compute.cpu_cores &&
          t.memoryGiB * 2 ** 30 >= tier.compute.memory_gb * 1e9 &&
          (t.vcpu < type.vcpu || t.memoryGiB < type.memoryGiB),
      );
      expect(smaller).toStrictEqual([]);
      const template = v.resources.find(
        (r) => r.type === "aws:ec2/launchTemplate:LaunchTemplate" && r.parent === ng.parent,
      )!;
      const ebs = get(template.inputs, "blockDeviceMappings.0.ebs") as {
        volumeSize: number;
        volumeType: string;
        iops?: number;
        encrypted: string;
      };
      expect(ebs.volumeSize * 2 ** 30).toBeGreaterThanOrEqual(tier.compute.storage_gb * 1e9);
      expect((ebs.volumeSize - 1) * 2 ** 30).toBeLessThan(tier.compute.storage_gb * 1e9);
      expect(ebs.volumeType).toBe("gp3");
      expect(ebs.iops).toBe(tier.compute.storage_media === "nvme" ? 16000 : 3000);
      expect(ebs.encrypted).toBe("true");
    }
  });

  it("tags every region provider with tier, environment shared and the stack's owner, each writer role with its environment, and annotates each environment namespace with the owner", () => {
    const v = view(stack);
    const out = outputs(stack);
    const file = parse(readFileSync(join(STACKS_DIR, `Pulumi.${stack}.yaml`), "utf8")) as {
      config: Record<string, unknown>;
    };
    const owner = file.config["test-tiers:owner"];
    expect(owner).toEqual(expect.any(String));
    for (const p of v.ofType("pulumi:providers:aws")) {
      expect((v.providerInput(p, "defaultTags") as { tags: Record<string, string> }).tags).toStrictEqual({
        "test-tiers:stack": stack,
        "test-tiers:tier": out.tier,
        "test-tiers:region-roles": out.regions[v.providerInput(p, "region") as string]!.roles.join(","),
        "test-tiers:environment": "shared",
        "test-tiers:owner": owner,
        "managed-by": "pulumi",
      });
    }
    const writers = v.ofType("aws:iam/role:Role").filter((r) => r.name.endsWith("-writer"));
    expect(
      writers.map((w) => (w.inputs.tags as Record<string, string>)["test-tiers:environment"]).sort(),
    ).toStrictEqual(out.mode === "eks" ? Object.keys(out.environments).sort() : []);
    const envNamespaces = new Set(Object.values(out.environments).map((e) => e.namespace));
    for (const ns of v.ofType("kubernetes:core/v1:Namespace"))
      if (envNamespaces.has(get(ns.inputs, "metadata.name") as string))
        expect(get(ns.inputs, "metadata.annotations"), ns.urn).toMatchObject({ "test-tiers/owner": owner });
  });

  it("labels every environment namespace for Pod Security Admission restricted; only the platform's own namespaces are not", () => {
    const v = view(stack);
    const envNamespaces = Object.values(outputs(stack).environments)
      .map((e) => e.namespace)
      .sort();
    const all = v.ofType("kubernetes:core/v1:Namespace");
    const namespaces = all.filter((n) => envNamespaces.includes(get(n.inputs, "metadata.name") as string));
    expect(namespaces.map((n) => get(n.inputs, "metadata.name")).sort()).toStrictEqual(envNamespaces);
    // The rest are the region platform's: Argo's CRDs, cert-manager, monitoring (node-exporter needs
    // privileged), Chaos Mesh (its daemon needs privileged).
    for (const ns of all.filter((n) => !namespaces.includes(n)))
      expect(["argo-workflows-crds", "cert-manager", "monitoring", "chaos-mesh"], ns.urn).toContain(
        get(ns.inputs, "metadata.name"),
      );
    for (const ns of namespaces) {
      expect(get(ns.inputs, "metadata.labels")).toMatchObject({
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/audit": "restricted",
      });
    }
  });

  it("denies all ingress and egress by default in every environment namespace, allowing only DNS, the namespace and scrapes", () => {
    const v = view(stack);
    for (const env of Object.values(outputs(stack).environments)) {
      const policies = v
        .inNamespace(env.namespace)
        .filter((r) => r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy");
      const denyAll = policies.filter((p) => {
        const spec = p.inputs.spec as {
          podSelector: object;
          policyTypes: string[];
          ingress?: unknown;
          egress?: unknown;
        };
        return (
          Object.keys(spec.podSelector).length === 0 &&
          spec.ingress === undefined &&
          spec.egress === undefined &&
          [...spec.policyTypes].sort().join() === "Egress,Ingress"
        );
      });
      expect(denyAll, env.namespace).toHaveLength(1);
      // Every allowance names its peers: nothing is open to the whole cluster.
      for (const p of policies) {
        for (const rule of [
          ...list(get(p.inputs, "spec.ingress") as object[] | undefined),
          ...list(get(p.inputs, "spec.egress") as object[] | undefined),
        ]) {
          const peers = list(
            (rule as { from?: object[]; to?: object[] }).from ?? (rule as { to?: object[] }).to,
          );
          expect(peers.length, `${p.name} has a rule without peers`).toBeGreaterThan(0);
        }
      }
    }
  });

  it("bounds every environment with a ResourceQuota equal to the plan's resources, and allows no LoadBalancer or NodePort", () => {
    const v = view(stack);
    for (const [id, env] of Object.entries(outputs(stack).environments)) {
      const inNs = v.inNamespace(env.namespace);
      const quotas = inNs.filter((r) => r.type === "kubernetes:core/v1:ResourceQuota");
      expect(quotas).toHaveLength(1);
      const hard = get(quotas[0]!.inputs, "spec.hard") as Record<string, string>;
      expect(hard["services.loadbalancers"]).toBe("0");
      expect(hard["services.nodeports"]).toBe("0");
      const config = inNs.find((r) => r.type === "kubernetes:core/v1:ConfigMap")!;
      const plan = JSON.parse((config.inputs.data as Record<string, string>)["plan.json"]!) as CyclePlan;
      expect(plan.environments.map((e) => e.id)).toContain(id);
      const res = plan.environments.find((e) => e.id === id)!.resources;
      for (const k of ["requests", "limits"]) {
        expect(parseBytes(hard[`${k}.memory`]!)).toBe(Math.floor(res.memory_bytes / 2 ** 20) * 2 ** 20);
        const cpu = hard[`${k}.cpu`]!;
        expect(cpu.endsWith("m") ? Number(cpu.slice(0, -1)) : Number(cpu) * 1000).toBe(res.cpu_millis);
      }
      expect(inNs.filter((r) => r.type === "kubernetes:core/v1:LimitRange")).toHaveLength(1);
    }
  });

  it("lets each environment's orchestrator and workflow run load Jobs in its own namespace only: a Role for Jobs and pods, bound to their ServiceAccounts", () => {
    const v = view(stack);
    for (const env of Object.values(outputs(stack).environments)) {
      const inNs = v.inNamespace(env.namespace);
      const all = inNs.filter((r) => r.type === "kubernetes:rbac.authorization.k8s.io/v1:Role");
      // Besides it, only the chaos tiers' Role for Chaos Mesh's kinds (components/environment/chaos-access.ts).
      for (const r of all)
        expect(["orchestrator-load-jobs", "chaos-injector"]).toContain(get(r.inputs, "metadata.name"));
      const roles = all.filter((r) => get(r.inputs, "metadata.name") === "orchestrator-load-jobs");
      expect(roles).toHaveLength(1);
      expect(get(roles[0]!.inputs, "rules")).toStrictEqual([
        { apiGroups: ["batch"], resources: ["jobs"], verbs: ["create", "get", "list", "watch", "delete"] },
        { apiGroups: [""], resources: ["pods"], verbs: ["get", "list"] },
        { apiGroups: [""], resources: ["pods/log"], verbs: ["get"] },
      ]);
      const bindings = inNs.filter(
        (r) =>
          r.type === "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding" &&
          get(r.inputs, "roleRef.name") === "orchestrator-load-jobs",
      );
      expect(bindings).toHaveLength(1);
      expect(get(bindings[0]!.inputs, "roleRef")).toStrictEqual({
        apiGroup: "rbac.authorization.k8s.io",
        kind: "Role",
        name: "orchestrator-load-jobs",
      });
      // The orchestrator's, and the workflow's (its load steps run their load as the same Jobs).
      expect(get(bindings[0]!.inputs, "subjects")).toStrictEqual([
        { kind: "ServiceAccount", name: "orchestrator", namespace: env.namespace },
        { kind: "ServiceAccount", name: WORKFLOW_SERVICE_ACCOUNT, namespace: env.namespace },
      ]);
      const worker = inNs.find(
        (r) =>
          r.type === "kubernetes:core/v1:ServiceAccount" && get(r.inputs, "metadata.name") === "load-worker",
      );
      expect(worker && get(worker.inputs, "automountServiceAccountToken")).toBe(false);
    }
    // Nothing cluster-wide is granted for load.
    const clusterBindings = view(stack).ofType("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding");
    for (const b of clusterBindings)
      expect(JSON.stringify(get(b.inputs, "subjects") ?? [])).not.toContain('"name":"orchestrator"');
  });

  it("has no Service of type LoadBalancer or NodePort, but the primary's internal remote-write receiver", () => {
    const services = view(stack).ofType("kubernetes:core/v1:Service");
    expect(services.length).toBeGreaterThanOrEqual(3 * Object.keys(outputs(stack).environments).length);
    for (const s of services) {
      if (get(s.inputs, "metadata.name") === "prometheus-remote-write") {
        expect(get(s.inputs, "metadata.namespace"), s.urn).toBe("monitoring");
        expect(get(s.inputs, "metadata.annotations")).toMatchObject({
          "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
        });
        continue;
      }
      expect(get(s.inputs, "spec.type") ?? "ClusterIP", s.urn).toBe("ClusterIP");
    }
  });

  it("lets no environment's role write or list another environment's prefix", () => {
    const v = view(stack);
    const out = outputs(stack);
    const writers = v.ofType("aws:iam/rolePolicy:RolePolicy").filter((p) => p.name.endsWith("-writer"));
    if (out.mode === "kubeconfig") {
      expect(writers).toStrictEqual([]);
      return;
    }
    expect(writers).toHaveLength(Object.keys(out.environments).length);
    for (const [id, env] of Object.entries(out.environments)) {
      const bucketArn = `arn:aws:s3:::${env.bundleBucket!}`;
      const store = v.resources.find((r) => r.type === "tiers:storage:BundleStore" && r.name === env.region)!;
      const policy = writers.find((w) => w.parent === store.urn && w.name === `${env.region}-${id}-writer`)!;
      const statements = (JSON.parse(policy.inputs.policy as string) as { Statement: Statement[] }).Statement;
      expect(allows(statements, "s3:PutObject", `${bucketArn}/${env.bundlePrefix!}bundle.tar.gz`)).toBe(true);
      for (const [otherId, other] of Object.entries(out.environments)) {
        if (otherId === id) continue;
        const otherArn = `arn:aws:s3:::${other.bundleBucket!}`;
        expect(
          allows(statements, "s3:PutObject", `${otherArn}/${other.bundlePrefix!}bundle.tar.gz`),
          `${id} → ${otherId}`,
        ).toBe(false);
        expect(
          allows(statements, "s3:GetObject", `${otherArn}/${other.bundlePrefix!}bundle.tar.gz`),
          `${id} → ${otherId}`,
        ).toBe(false);
        expect(allows(statements, "s3:ListBucket", otherArn, other.bundlePrefix), `${id} → ${otherId}`).toBe(
          false,
        );
      }
      // The role has this inline policy and nothing else, and only this environment's pods may assume it.
      const role = v.resources.find((r) => r.type === "aws:iam/role:Role" && r.name === policy.name)!;
      expect(
        v
          .ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
          .filter((a) => a.parent === role.parent && String(a.inputs.role).startsWith(policy.name)),
      ).toStrictEqual([]);
      expect(role.inputs.assumeRolePolicy as string).toContain(
        `"system:serviceaccount:${env.namespace}:orchestrator"`,
      );
    }
  });

  it("gives every container requests and limits, a non-root user, a read-only root filesystem and a pinned image", () => {
    const v = view(stack);
    const workloads = v.workloads();
    expect(workloads).toHaveLength(3 * Object.keys(outputs(stack).environments).length);
    for (const w of workloads) {
      const pod = v.podSpec(w)!;
      const containers = [
        ...list(pod.containers as PlainContainer[]),
        ...list(pod.initContainers as PlainContainer[] | undefined),
      ];
      expect(containers.length).toBeGreaterThan(0);
      for (const c of containers) {
        const where = `${w.name}/${c.name}`;
        const res = c.resources ?? {};
        expect(Object.keys(res.requests ?? {}).sort(), where).toStrictEqual(["cpu", "memory"]);
        expect(Object.keys(res.limits ?? {}).sort(), where).toStrictEqual(["cpu", "memory"]);
        const sc = c.securityContext ?? {};
        const podSc = (pod.securityContext ?? {}) as Record<string, unknown>;
        expect(sc.runAsNonRoot ?? podSc.runAsNonRoot, where).toBe(true);
        expect(Number(sc.runAsUser ?? podSc.runAsUser), where).toBeGreaterThan(0);
        expect(sc.readOnlyRootFilesystem, where).toBe(true);
        expect(sc.allowPrivilegeEscalation, where).toBe(false);
        expect(get(sc, "capabilities.drop"), where).toStrictEqual(["ALL"]);
        expect(imagePinProblem(c.image), `${where}: ${c.image}`).toBeUndefined();
        // `args` only, never `command`: the image's ENTRYPOINT (tini) stays PID 1 (issue 18).
        expect(c.command, where).toBeUndefined();
      }
    }
  });

  it("keeps every secret a Pulumi secret: nothing a mock minted as secret appears in plain text anywhere", () => {
    const v = view(stack);
    const text = JSON.stringify({ resources: v.resources, outputs: v.graph.outputs });
    expect(text).not.toContain(MOCK_SECRET_PREFIX);
    for (const s of v.ofType("kubernetes:core/v1:Secret")) {
      expect(
        s.secretPaths.some((p) => p === "stringData" || p.startsWith("stringData.")),
        s.urn,
      ).toBe(true);
    }
    for (const p of v.ofType("pulumi:providers:kubernetes"))
      expect(p.secretPaths).toStrictEqual(["kubeconfig"]);
    expect([...v.graph.outputSecretPaths].sort()).toStrictEqual(["apiTokens", "kubeconfigs"]);
    expect(outputs(stack).kubeconfigs).toBe(SECRET_MARKER);
    // One API token per environment, and one Grafana admin password per region's monitoring stack.
    expect(v.ofType("random:index/randomPassword:RandomPassword")).toHaveLength(
      Object.keys(outputs(stack).environments).length + v.ofType("tiers:platform:RegionMonitoring").length,
    );
    expect(v.ofType("tls:index/privateKey:PrivateKey").map((k) => k.inputs.algorithm)).toStrictEqual(
      Object.keys(outputs(stack).environments).map(() => "ED25519"),
    );
  });

  it("exports what a runner needs, per region and environment", () => {
    const out = outputs(stack);
    const v = view(stack);
    expect(Object.keys(out.environments).length).toBeGreaterThan(0);
    for (const [id, env] of Object.entries(out.environments)) {
      expect(Object.keys(out.regions)).toContain(env.region);
      expect(env.namespace).toMatch(/^tiers-[a-z0-9-]+$/);
      expect(env.orchestratorService).toBe("orchestrator");
      expect(env.orchestratorUrl).toBe(`https://orchestrator.${env.namespace}.svc.cluster.local:8080`);
      expect(env.signingPublicKeyPem).toContain("BEGIN PUBLIC KEY");
      if (out.mode === "eks") {
        expect(env.bundleBucket).toBe(out.regions[env.region]!.bundleBucket);
        expect(env.bundlePrefix).toBe(`bundles/${id}/`);
      } else {
        expect(env.bundleBucket).toBeUndefined();
      }
    }
    expect(
      v
        .ofType("tiers:cluster:RegionCluster")
        .map((c) => c.name)
        .sort(),
    ).toStrictEqual(Object.keys(out.regions).sort());
  });
});

describe("stack ultimate", () => {
  it("registers three regions with seed 001's roles, each with its own provider, cluster, network and bundle store", () => {
    const v = view("ultimate");
    const out = outputs("ultimate");
    expect(Object.fromEntries(Object.entries(out.regions).map(([r, o]) => [r, o.roles]))).toStrictEqual({
      "us-east-1": ["primary"],
      "eu-west-1": ["secondary"],
      "ap-southeast-1": ["tertiary"],
    });
    for (const type of [
      "tiers:network:RegionNetwork",
      "tiers:cluster:RegionCluster",
      "tiers:storage:BundleStore",
      "aws:eks/cluster:Cluster",
      "aws:s3/bucket:Bucket",
      "pulumi:providers:aws",
    ]) {
      expect(v.ofType(type), type).toHaveLength(3);
    }
    expect(new Set(v.ofType("pulumi:providers:aws").map((p) => v.providerInput(p, "region")))).toStrictEqual(
      new Set(["us-east-1", "eu-west-1", "ap-southeast-1"]),
    );
    expect(Object.entries(out.environments).map(([id, e]) => [id, e.region, e.role])).toStrictEqual([
      ["primary", "us-east-1", "primary"],
      ["secondary", "eu-west-1", "secondary"],
      ["tertiary", "ap-southeast-1", "tertiary"],
    ]);
    // One NAT gateway per zone (natGateways: perAz): us-east-1 3 of its 6 zones, the others 3.
    expect(v.ofType("aws:ec2/natGateway:NatGateway")).toHaveLength(9);
  });
});

describe("stack local", () => {
  it("reaches its cluster through the stack's kubeconfig and context, and creates nothing in AWS", () => {
    const v = view("local");
    const [p] = v.ofType("pulumi:providers:kubernetes");
    expect(p!.inputs.context).toBe("kind-test-tiers");
    expect(
      v.resources
        .filter((r) => isProviderType(r.type))
        .map((r) => r.type)
        .sort(),
    ).toStrictEqual(["pulumi:providers:kubernetes", "pulumi:providers:random", "pulumi:providers:tls"]);
  });
});

describe.each(["chaos", "ultimate", "local"])("stack %s: workflows and autoscaling (issue 14)", (stack) => {
  const HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler";
  const RELEASE = "kubernetes:helm.sh/v3:Release";
  const WFT = "kubernetes:argoproj.io/v1alpha1:WorkflowTemplate";
  const releases = (chart: string) =>
    view(stack)
      .ofType(RELEASE)
      .filter((r) => pget(r.inputs, ["chart"]) === chart);

  it("installs Argo's CRDs once per cluster (full schemas, no controller, no cluster-wide templates), pinned", () => {
    const clusters = view(stack).ofType("tiers:cluster:RegionCluster").length;
    const crds = releases("argo-workflows").filter(
      (r) => pget(r.inputs, ["values", "crds", "install"]) === true,
    );
    expect(crds).toHaveLength(clusters);
    for (const r of crds) {
      expect(pget(r.inputs, ["version"])).toBe("1.0.18");
      expect(pget(r.inputs, ["values", "crds"])).toStrictEqual({ install: true, keep: true, full: true });
      expect(pget(r.inputs, ["values", "controller", "replicas"])).toBe(0);
      expect(pget(r.inputs, ["values", "controller", "clusterWorkflowTemplates", "enabled"])).toBe(false);
      expect(pget(r.inputs, ["values", "server", "enabled"])).toBe(false);
    }
  });

  it("runs a namespaced Argo controller and the plan's WorkflowTemplate in every environment, after the CRDs", () => {
    const envs = outputs(stack).environments;
    const crdUrns = new Set(
      releases("argo-workflows")
        .filter((r) => pget(r.inputs, ["values", "crds", "install"]) === true)
        .map((r) => r.urn),
    );
    const templates = view(stack).ofType(WFT);
    expect(templates).toHaveLength(Object.keys(envs).length);
    for (const [id, e] of Object.entries(envs)) {
      const controller = releases("argo-workflows").find(
        (r) => pget(r.inputs, ["namespace"]) === e.namespace,
      );
      expect(controller, id).toBeDefined();
      expect(pget(controller!.inputs, ["version"])).toBe("1.0.18");
      expect(pget(controller!.inputs, ["values", "singleNamespace"])).toBe(true);
      expect(pget(controller!.inputs, ["values", "crds", "install"])).toBe(false);
      expect(pget(controller!.inputs, ["values", "createAggregateRoles"])).toBe(false);
      expect(pget(controller!.inputs, ["values", "controller", "clusterWorkflowTemplates", "enabled"])).toBe(
        false,
      );
      const t = templates.find((r) => pget(r.inputs, ["metadata", "namespace"]) === e.namespace)!;
      expect(pget(t.inputs, ["metadata", "name"])).toBe(`cycle-${id}`);
      expect(t.dependencies).toContain(controller!.urn);
      expect(t.dependencies.some((d) => crdUrns.has(d))).toBe(true);
      // The template runs this environment's plan: its phases in order, each gate deciding the next.
      const configMap = view(stack)
        .ofType("kubernetes:core/v1:ConfigMap")
        .find((c) => pget(c.inputs, ["metadata", "namespace"]) === e.namespace)!;
      const plan = JSON.parse(pget(configMap.inputs, ["data", "plan.json"]) as string) as CyclePlan;
      const env = plan.environments.find((x) => x.id === id)!;
      const names = (pget(t.inputs, ["spec", "templates"]) as { name: string }[]).map((x) => x.name);
      expect(names.filter((n) => /^phase-[a-z]+$/.test(n))).toStrictEqual(
        env.phases.map((p) => `phase-${p.name}`),
      );
    }
  });

  it("lets the environment's Argo pods, and only they, reach the API server (and the export step the bundle bucket)", () => {
    const eks = view(stack).ofType("aws:ec2/vpc:Vpc").length > 0;
    for (const [id, e] of Object.entries(outputs(stack).environments)) {
      const policies = view(stack)
        .ofType("kubernetes:networking.k8s.io/v1:NetworkPolicy")
        .filter((r) => pget(r.inputs, ["metadata", "namespace"]) === e.namespace);
      const named = (n: string) => policies.find((p) => pget(p.inputs, ["metadata", "name"]) === n);
      const api = named("allow-argo-kube-api");
      expect(api, id).toBeDefined();
      expect(pget(api!.inputs, ["spec", "podSelector"])).toStrictEqual({
        matchExpressions: [{ key: ARGO_POD_LABEL, operator: "In", values: ["controller", "step"] }],
      });
      expect(pget(api!.inputs, ["spec", "egress", "0", "ports"])).toStrictEqual([
        { protocol: "TCP", port: 443 },
        { protocol: "TCP", port: 6443 },
      ]);
      const upload = named("allow-argo-bundle-upload");
      if (eks) {
        // On EKS: the API server's endpoints are in the VPC, the bucket outside it.
        const vpcCidrs = view(stack)
          .ofType("aws:ec2/vpc:Vpc")
          .map((v) => pget(v.inputs, ["cidrBlock"]));
        const to = pget(api!.inputs, ["spec", "egress", "0", "to"]) as { ipBlock: { cidr: string } }[];
        expect(to.every((t) => vpcCidrs.includes(t.ipBlock.cidr))).toBe(true);
        expect(pget(upload!.inputs, ["spec", "podSelector"])).toStrictEqual({
          matchLabels: { [ARGO_POD_LABEL]: "step" },
        });
        expect(pget(upload!.inputs, ["spec", "egress", "0", "to", "0", "ipBlock", "except"])).toStrictEqual(
          pget(named("allow-bundle-upload")!.inputs, ["spec", "egress", "0", "to", "0", "ipBlock", "except"]),
        );
      } else {
        expect(upload, id).toBeUndefined();
      }
      // The pods carry the label the policies select.
      const controller = releases("argo-workflows").find(
        (r) => pget(r.inputs, ["namespace"]) === e.namespace,
      )!;
      expect(pget(controller.inputs, ["values", "controller", "podLabels"])).toStrictEqual({
        [ARGO_POD_LABEL]: "controller",
      });
      const t = view(stack)
        .ofType(WFT)
        .find((r) => pget(r.inputs, ["metadata", "namespace"]) === e.namespace)!;
      expect(pget(t.inputs, ["spec", "podMetadata", "labels", ARGO_POD_LABEL])).toBe("step");
    }
  });

  it("runs the workflow's load as the orchestrator's: its load steps alone get the Deployment's TIERS_LOAD_JOB_* and the token, and reach the API server", () => {
    type Container = { args: string[]; env?: { name: string; value?: string }[] };
    type Template = { name: string; automountServiceAccountToken?: boolean; container?: Container };
    const loadVars = (env: { name: string; value?: string }[] | undefined) =>
      (env ?? []).filter((v) => v.name.startsWith("TIERS_LOAD_"));
    let withJobs = 0;
    for (const [id, e] of Object.entries(outputs(stack).environments)) {
      const orchestrator = view(stack)
        .ofType("kubernetes:apps/v1:Deployment")
        .find(
          (d) =>
            pget(d.inputs, ["metadata", "namespace"]) === e.namespace &&
            pget(d.inputs, ["metadata", "name"]) === "orchestrator",
        )!;
      const deployment = loadVars(
        pget(orchestrator.inputs, ["spec", "template", "spec", "containers", 0, "env"]) as Container["env"],
      );
      const t = view(stack)
        .ofType(WFT)
        .find((r) => pget(r.inputs, ["metadata", "namespace"]) === e.namespace)!;
      const templates = pget(t.inputs, ["spec", "templates"]) as Template[];
      const configMap = view(stack)
        .ofType("kubernetes:core/v1:ConfigMap")
        .find((c) => pget(c.inputs, ["metadata", "namespace"]) === e.namespace)!;
      const plan = JSON.parse(pget(configMap.inputs, ["data", "plan.json"]) as string) as CyclePlan;
      const env = plan.environments.find((x) => x.id === id)!;
      // Every load segment's step runs the run-load template, every other test's run-test.
      const steps = templates
        .flatMap((x) => ((x as { steps?: { template: string; arguments?: unknown }[][] }).steps ?? []).flat())
        .filter((s) => s.template === "run-test" || s.template === LOAD_STEP_TEMPLATE)
        .map((s) => ({
          template: s.template,
          id: pget(s.arguments, ["parameters", 0, "value"]) as string,
        }));
      const loadIds = env.phases.flatMap((p) =>
        phaseStepIds(p).filter((x) => x === `${p.name}/load` || x.startsWith(`${p.name}/load@`)),
      );
      expect(loadIds.length, id).toBeGreaterThan(0);
      expect(steps.filter((s) => s.template === LOAD_STEP_TEMPLATE).map((s) => s.id)).toStrictEqual(loadIds);
      expect(steps.filter((s) => s.template === "run-test").every((s) => !loadIds.includes(s.id))).toBe(true);
      // The stacks' plans are absolute: start-cycle does not calibrate, so it generates no load.
      expect(plan.options.load_mode).toBe("absolute");
      const faults = env.phases.some((p) => p.faults.length > 0);
      const tokened = templates.filter((x) => x.automountServiceAccountToken !== undefined);
      const containers = templates.filter((x) => x.container);
      if (deployment.length > 0) {
        withJobs++;
        // The Deployment's load variables, exactly, on the load steps' container and no other.
        for (const x of containers)
          expect(loadVars(x.container!.env), `${id} ${x.name}`).toStrictEqual(
            x.name === LOAD_STEP_TEMPLATE ? deployment : [],
          );
        expect(tokened.map((x) => [x.name, x.automountServiceAccountToken])).toStrictEqual([
          [LOAD_STEP_TEMPLATE, true],
          ...(faults ? [["run-faults", true]] : []),
        ]);
      } else {
        // No worker pod fits the quota: the steps, as the orchestrator, generate the load themselves.
        for (const x of containers) expect(loadVars(x.container!.env), `${id} ${x.name}`).toStrictEqual([]);
        expect(tokened.map((x) => x.name)).toStrictEqual(faults ? ["run-faults"] : []);
      }
      // The token is the workflow's ServiceAccount's, whose pods the API-server egress admits.
      expect(pget(t.inputs, ["spec", "serviceAccountName"])).toBe(WORKFLOW_SERVICE_ACCOUNT);
      expect(pget(t.inputs, ["spec", "automountServiceAccountToken"])).toBe(false);
      const api = view(stack)
        .ofType("kubernetes:networking.k8s.io/v1:NetworkPolicy")
        .find(
          (p) =>
            pget(p.inputs, ["metadata", "namespace"]) === e.namespace &&
            pget(p.inputs, ["metadata", "name"]) === "allow-argo-kube-api",
        )!;
      const admitted = pget(api.inputs, ["spec", "podSelector", "matchExpressions", 0]) as {
        key: string;
        values: string[];
      };
      expect(admitted.values).toContain(
        pget(t.inputs, ["spec", "podMetadata", "labels", admitted.key]) as string,
      );
    }
    // The local stack's 3-CPU quota holds no worker pod; the EKS stacks' do.
    expect(withJobs > 0).toBe(stack !== "local");
  });

  it("gives every environment's SUT an autoscaling/v2 HPA with seed 001's figures, within the quota", () => {
    const h = catalog.monitoring.autoscaling.horizontal;
    for (const e of Object.values(outputs(stack).environments)) {
      const hpa = view(stack)
        .ofType(HPA)
        .filter((r) => pget(r.inputs, ["metadata", "namespace"]) === e.namespace);
      expect(hpa).toHaveLength(1);
      const spec = hpa[0]!.inputs.spec as {
        scaleTargetRef: unknown;
        metrics: unknown;
        behavior: unknown;
        minReplicas: number;
        maxReplicas: number;
      };
      expect(spec.scaleTargetRef).toStrictEqual({ apiVersion: "apps/v1", kind: "Deployment", name: "sut" });
      expect(spec.metrics).toStrictEqual([
        {
          type: "Resource",
          resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } },
        },
        {
          type: "Resource",
          resource: { name: "memory", target: { type: "Utilization", averageUtilization: 75 } },
        },
      ]);
      expect([h.targets.cpu_utilization_pct, h.targets.memory_utilization_pct]).toStrictEqual([70, 75]);
      expect(spec.behavior).toStrictEqual({
        scaleUp: {
          stabilizationWindowSeconds: 60,
          selectPolicy: "Max",
          policies: [{ type: "Pods", value: 2, periodSeconds: 60 }],
        },
        scaleDown: {
          stabilizationWindowSeconds: 300,
          selectPolicy: "Max",
          policies: [{ type: "Pods", value: 1, periodSeconds: 300 }],
        },
      });
      const sut = view(stack)
        .ofType("kubernetes:apps/v1:Deployment")
        .find(
          (d) =>
            pget(d.inputs, ["metadata", "namespace"]) === e.namespace &&
            pget(d.inputs, ["metadata", "name"]) === "sut",
        )!;
      expect(spec.minReplicas).toBe(pget(sut.inputs, ["spec", "replicas"]));
      expect(spec.maxReplicas).toBeGreaterThanOrEqual(spec.minReplicas);
      // maxReplicas SUT limits fit the quota beside the orchestrator's and iperf3's.
      const quota = view(stack)
        .ofType("kubernetes:core/v1:ResourceQuota")
        .find((q) => pget(q.inputs, ["metadata", "namespace"]) === e.namespace)!;
      const cpu = (q: string) => (q.endsWith("m") ? Number(q.slice(0, -1)) : Number(q) * 1000);
      const limit = (d: CapturedResource) =>
        cpu(
          pget(d.inputs, [
            "spec",
            "template",
            "spec",
            "containers",
            0,
            "resources",
            "limits",
            "cpu",
          ]) as string,
        );
      const fixed = ["orchestrator", "iperf3"].map((n) =>
        view(stack)
          .ofType("kubernetes:apps/v1:Deployment")
          .find(
            (d) =>
              pget(d.inputs, ["metadata", "namespace"]) === e.namespace &&
              pget(d.inputs, ["metadata", "name"]) === n,
          )!,
      );
      // The orchestrator's load Jobs: its own image, at most TIERS_LOAD_JOB_MAX_WORKERS pods of
      // LOAD_WORKER_RESOURCES, through the API its token reaches — or none when no worker pod fits.
      const orchestrator = fixed[0]!;
      const container = pget(orchestrator.inputs, ["spec", "template", "spec", "containers", 0]) as {
        image: string;
        env: { name: string; value?: string }[];
      };
      const envOf = (n: string) => container.env.find((x) => x.name === n)?.value;
      const hardCpu = cpu(pget(quota.inputs, ["spec", "hard", "limits.cpu"]) as string);
      const fixedCpu = fixed.reduce((t, d) => t + limit(d), 0);
      const spare = hardCpu - fixedCpu - spec.minReplicas * limit(sut);
      const worker = LOAD_WORKER_RESOURCES.limits.cpu_millis;
      const workers = Number(envOf("TIERS_LOAD_JOB_MAX_WORKERS") ?? 0);
      if (spare >= worker) {
        expect(envOf("TIERS_LOAD_JOB_IMAGE")).toBe(container.image);
        expect(envOf("TIERS_LOAD_WORKER_CAPACITY_RPS")).toBe(String(LOAD_WORKER_CAPACITY_RPS));
        expect(envOf("TIERS_LOAD_WORKER_SERVICE_ACCOUNT")).toBe("load-worker");
        expect(workers).toBeGreaterThanOrEqual(1);
        // Half of the spare CPU (all of it when half holds no worker), unless memory holds fewer.
        expect(workers).toBeLessThanOrEqual(Math.floor(spare / 2 / worker) || Math.floor(spare / worker));
      } else {
        expect(envOf("TIERS_LOAD_JOB_IMAGE"), `${e.namespace}: no worker pod fits`).toBeUndefined();
        expect(workers).toBe(0);
      }
      expect(pget(orchestrator.inputs, ["spec", "template", "spec", "automountServiceAccountToken"])).toBe(
        true,
      );
      // Everything at its maximum at once — the SUT's HPA's and the load Job's — fits the quota.
      expect(
        fixedCpu + spec.maxReplicas * limit(sut) + workers * worker,
        `${e.namespace}: fixed ${fixedCpu}, SUT ${limit(sut)} × ${spec.minReplicas}…${spec.maxReplicas}, ${workers} workers`,
      ).toBeLessThanOrEqual(hardCpu);
    }
  });

  const eks = stack !== "local";
  it(
    eks
      ? "runs metrics-server and cluster-autoscaler (IRSA, scoped by the cluster's tag) per cluster"
      : "kubeconfig mode: no metrics-server or cluster-autoscaler of ours (the cluster brings its own)",
    () => {
      const clusters = view(stack).ofType("aws:eks/cluster:Cluster");
      expect(releases("metrics-server")).toHaveLength(eks ? clusters.length : 0);
      expect(releases("cluster-autoscaler")).toHaveLength(eks ? clusters.length : 0);
      for (const cluster of clusters) {
        const name = pget(cluster.inputs, ["name"]) as string;
        const tag = `k8s.io/cluster-autoscaler/${name}`;
        const group = view(stack)
          .ofType("aws:eks/nodeGroup:NodeGroup")
          .find((g) => pget(g.inputs, ["tags", tag]) === "owned")!;
        expect(pget(group.inputs, ["tags", "k8s.io/cluster-autoscaler/enabled"])).toBe("true");
        const ca = releases("cluster-autoscaler").find(
          (r) => pget(r.inputs, ["values", "autoDiscovery", "clusterName"]) === name,
        )!;
        expect(pget(ca.inputs, ["version"])).toBe("9.46.6");
        const roleArn = pget(ca.inputs, [
          "values",
          "rbac",
          "serviceAccount",
          "annotations",
          "eks.amazonaws.com/role-arn",
        ]);
        expect(typeof roleArn).toBe("string");
        const role = view(stack)
          .ofType("aws:iam/role:Role")
          .find((r) => r.name === `${name.slice(`tiers-${stack}-`.length)}-cluster-autoscaler`);
        expect(role).toBeDefined();
        const trust = JSON.parse(pget(role!.inputs, ["assumeRolePolicy"]) as string) as {
          Statement: Statement[];
        };
        const cond = trust.Statement[0]!.Condition!.StringEquals as Record<string, string>;
        expect(Object.values(cond)).toContain("system:serviceaccount:kube-system:cluster-autoscaler");
        const region = name.slice(`tiers-${stack}-`.length);
        const inline = view(stack)
          .ofType("aws:iam/rolePolicy:RolePolicy")
          .find((p) => p.name === `${region}-cluster-autoscaler`)!;
        const doc = JSON.parse(pget(inline.inputs, ["policy"]) as string) as { Statement: Statement[] };
        const scale = doc.Statement.find((s) => list(s.Action).includes("autoscaling:SetDesiredCapacity"))!;
        expect(scale.Condition).toStrictEqual({ StringEquals: { [`aws:ResourceTag/${tag}`]: "owned" } });
        const sizing = pget(group.inputs, ["scalingConfig"]) as { minSize: number; maxSize: number };
        expect(sizing.maxSize).toBeGreaterThan(sizing.minSize);
      }
    },
  );
});
