import type { Catalog } from "../../tiers/catalog.js";
import type { IssueCollector } from "../../tiers/config/issues.js";
import type { YamlSource } from "../../tiers/config/yaml-source.js";
import { hashPlan } from "../../tiers/plan/hash.js";
import type { CyclePlan } from "../../tiers/plan/schema.js";
import {
  environmentCapacity,
  formatResources,
  nodeUsable,
  parseResources,
  shareCapacity,
  sizeNodeGroup,
  type Resources,
} from "../../tiers/infra/sizing.js";
import { sizeWorkloads } from "../../tiers/infra/workload-sizing.js";
import { parseEphemeralStack } from "../../tiers/infra/identity.js";
import { clusterMonitoringSettings } from "../../tiers/monitoring/cluster-settings.js";
import type { TestTierArgs, TierEnvironmentArgs, TierRegionArgs } from "../../components/tier/test-tier.js";
import { stackIssue } from "./issue.js";
import { DEFAULT_EKS_VERSION, DEFAULT_IMAGES, DEFAULT_SUT_PORT, key } from "./schema.js";
import type { StackSettings } from "./validate.js";

const UNBOUNDED: Resources = { cpu_millis: Number.MAX_SAFE_INTEGER, memory_bytes: Number.MAX_SAFE_INTEGER };

/** An environment's Kubernetes namespace. */
export function environmentNamespace(slug: string): string {
  return `tiers-${slug}`;
}

/**
 * Sizes every environment inside its region (quota, workloads) and lays the tier out for TestTier.
 * The plan's environment resources become the quotas, so the plan the orchestrator reads and the
 * namespace it runs in agree. Returns `undefined` after adding issues.
 */
export function layoutTier(
  stack: string,
  source: YamlSource,
  settings: StackSettings,
  plan: CyclePlan,
  catalog: Catalog,
  issues: IssueCollector,
): { args: TestTierArgs; plan: CyclePlan } | undefined {
  const cfg = settings.config;
  const cluster = settings.cluster;
  const before = issues.issues.length;
  const envSpecs = cfg[key("environments")];
  const explicit = (id: string): Resources | undefined => {
    const spec = typeof envSpecs === "object" ? envSpecs[id] : undefined;
    return spec?.resources ? plan.environments.find((e) => e.id === id)!.resources : undefined;
  };
  const sutSpec = cfg[key("sut")] ?? {};
  const sutExplicit = sutSpec.resources ? parseResources(sutSpec.resources) : undefined;
  const replicas = sutSpec.replicas ?? 1;

  checkModeKeys(source, settings, plan, issues);

  let capacity: Resources | undefined;
  let maxContainer: Resources;
  const nodeGroup = cluster.mode === "eks" ? sizeNodeGroup(catalog, plan.tier.name) : undefined;
  if (nodeGroup) {
    capacity = environmentCapacity(nodeGroup);
    maxContainer = nodeUsable(nodeGroup.instanceType);
  } else {
    capacity =
      cluster.mode === "kubeconfig" && cluster.capacity ? parseResources(cluster.capacity) : undefined;
    maxContainer = capacity ?? UNBOUNDED;
  }
  const capacityKey = nodeGroup ? [key("environments")] : [key("cluster"), "capacity"];

  const quotas = new Map<string, Resources>();
  for (const region of plan.regions) {
    const envs = plan.environments.filter((e) => e.region === region.location);
    if (!capacity) {
      for (const e of envs.filter((x) => !explicit(x.id))) {
        issues.add(
          stackIssue(source, typeof envSpecs === "object" ? [key("environments"), e.id] : [key("cluster")], {
            message: `environment ${e.id} states no resources and the cluster states no capacity to share`,
            expected: `resources on every environment, or ${key("cluster")}.capacity`,
          }),
        );
      }
      for (const e of envs) if (explicit(e.id)) quotas.set(e.id, explicit(e.id)!);
      continue;
    }
    const share = shareCapacity(
      capacity,
      envs.map((e) => ({ id: e.id, ...(explicit(e.id) ? { explicit: explicit(e.id)! } : {}) })),
    );
    if (!share.ok) {
      issues.add(
        stackIssue(source, capacityKey, {
          message: `region ${region.location}: ${share.problem}`,
          expected: nodeGroup
            ? `environments that fit the ${nodeGroup.desiredSize} × ${nodeGroup.instanceType.name} node group's share (${formatResources(capacity)})`
            : "environments that fit the cluster's capacity",
        }),
      );
      continue;
    }
    for (const [id, q] of share.quotas) quotas.set(id, q);
  }

  const sized = new Map<string, TierEnvironmentArgs["sizes"]>();
  for (const e of plan.environments) {
    const quota = quotas.get(e.id);
    if (!quota) continue;
    const r = sizeWorkloads(
      quota,
      { replicas, ...(sutExplicit ? { explicit: sutExplicit } : {}) },
      maxContainer,
    );
    if (r.ok) {
      sized.set(e.id, r.sizes);
      continue;
    }
    const path = sutExplicit
      ? [key("sut"), "resources"]
      : explicit(e.id)
        ? [key("environments"), e.id, "resources"]
        : capacityKey;
    issues.add(
      stackIssue(source, path, { message: `environment ${e.id}: ${r.problem}`, got: formatResources(quota) }),
    );
  }
  if (issues.issues.length > before) return undefined;

  // The quotas are the environments' resources from here on; the plan says so too.
  const sizedPlan: CyclePlan = {
    ...plan,
    hash: "",
    environments: plan.environments.map((e) => ({ ...e, resources: quotas.get(e.id)! })),
  };
  const finalPlan = { ...sizedPlan, hash: hashPlan(sizedPlan) };

  const regions: TierRegionArgs[] = finalPlan.regions.map((region) => ({
    location: region.location,
    roles: region.roles,
    maxContainer,
    environments: finalPlan.environments
      .filter((e) => e.region === region.location)
      .map((e) => ({
        id: e.id,
        role: e.role,
        namespace: environmentNamespace(e.slug),
        quota: quotas.get(e.id)!,
        sizes: sized.get(e.id)!,
        // The tier's whole plan, same hash everywhere: each orchestrator runs its own environment of
        // it, and the centre groups the environments' bundles of one cycle under that hash.
        planJson: JSON.stringify(finalPlan),
      })),
  }));
  const images = cfg[key("images")] ?? {};
  const network = cfg[key("network")] ?? {};
  const logRetentionDays = catalog.monitoring.logging.retention_days;
  const args: TestTierArgs = {
    stack,
    tier: finalPlan.tier.name,
    cluster:
      cluster.mode === "eks"
        ? {
            mode: "eks",
            version: cluster.version ?? DEFAULT_EKS_VERSION,
            ...(cluster.endpointPublicAccess !== undefined
              ? { endpointPublicAccess: cluster.endpointPublicAccess }
              : {}),
            ...(cluster.publicAccessCidrs ? { publicAccessCidrs: cluster.publicAccessCidrs } : {}),
            ...(cluster.logTypes ? { logTypes: cluster.logTypes } : {}),
            ...(cluster.accessPrincipals ? { accessPrincipals: cluster.accessPrincipals } : {}),
            logRetentionDays,
            nodeGroup: nodeGroup!,
            network: {
              ...(network.vpcCidr ? { cidr: network.vpcCidr } : {}),
              ...(network.availabilityZones !== undefined
                ? { availabilityZones: network.availabilityZones }
                : {}),
              ...(network.natGateways ? { natGateways: network.natGateways } : {}),
            },
            ...(network.existingVpcs ? { existingVpcIds: network.existingVpcs } : {}),
            // An ephemeral stack's buckets are emptied of every version on destroy; a long-lived
            // stack's only with bundles.forceDestroy.
            bundles: {
              forceDestroy: parseEphemeralStack(stack) !== undefined,
              ...(cfg[key("bundles")] ?? {}),
            },
          }
        : {
            mode: "kubeconfig",
            kubeconfig: cluster.kubeconfig,
            ...(cluster.context !== undefined ? { context: cluster.context } : {}),
            ...(cluster.storageClass !== undefined ? { storageClassName: cluster.storageClass } : {}),
          },
    regions,
    monitoring: clusterMonitoringSettings(catalog, finalPlan.tier.name),
    // Chaos Mesh and the orchestrator's chaos Role only where the plan injects faults.
    ...(finalPlan.environments.some((e) => e.phases.some((p) => p.faults.length > 0)) ? { chaos: true } : {}),
    images: {
      orchestrator: images.orchestrator ?? DEFAULT_IMAGES.orchestrator,
      sut: images.sut ?? DEFAULT_IMAGES.sut,
      adapters: images.adapters ?? images.orchestrator ?? DEFAULT_IMAGES.orchestrator,
    },
    sut: {
      port: sutSpec.port ?? DEFAULT_SUT_PORT,
      replicas,
      healthPath: sutSpec.healthPath ?? "/healthz",
      ...(sutSpec.args ? { args: sutSpec.args } : {}),
    },
    orchestratorStorage: cfg[key("orchestrator")]?.storage ?? "10Gi",
    ...(cfg[key("owner")] !== undefined ? { owner: cfg[key("owner")] } : {}),
    ...(cfg[key("expiresAt")] !== undefined ? { expiresAt: cfg[key("expiresAt")] } : {}),
  };
  return { args, plan: finalPlan };
}

/** Keys that only one mode reads, and region keys that name no region of the tier. */
function checkModeKeys(
  source: YamlSource,
  settings: StackSettings,
  plan: CyclePlan,
  issues: IssueCollector,
): void {
  const cfg = settings.config;
  const cluster = settings.cluster;
  if (cluster.mode === "kubeconfig") {
    if (plan.regions.length > 1) {
      issues.add(
        stackIssue(source, [key("cluster"), "mode"], {
          message: `kubeconfig mode deploys into one existing cluster, but tier ${plan.tier.name} spans ${plan.regions.length} regions`,
          got: JSON.stringify("kubeconfig"),
          expected: "eks for a multi-region tier",
        }),
      );
    }
    for (const k of [key("network"), key("bundles")]) {
      if (cfg[k] !== undefined) {
        issues.add(
          stackIssue(
            source,
            [k],
            {
              message: "has no effect in kubeconfig mode (no VPC and no bucket are created)",
              expected: "no such key, or mode eks",
            },
            { key: true },
          ),
        );
      }
    }
    return;
  }
  if (cluster.endpointPublicAccess === false && cluster.publicAccessCidrs) {
    issues.add(
      stackIssue(
        source,
        [key("cluster"), "publicAccessCidrs"],
        {
          message: "has no effect while endpointPublicAccess is false",
          expected: "no publicAccessCidrs, or endpointPublicAccess: true",
        },
        { key: true },
      ),
    );
  }
  const locations = plan.regions.map((r) => r.location);
  for (const region of Object.keys(cfg[key("network")]?.existingVpcs ?? {})) {
    if (!locations.includes(region)) {
      issues.add(
        stackIssue(
          source,
          [key("network"), "existingVpcs", region],
          {
            message: "is not a region of this stack",
            got: JSON.stringify(region),
            expected: `one of ${locations.join(", ")}`,
          },
          { key: true },
        ),
      );
    }
  }
}
