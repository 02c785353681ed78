/**
 * Every shipped stack passes the pack with no violation at all, and the pack had something to
 * check in each (a pass where every policy was "not applicable" would prove nothing). The node
 * groups of every EKS stack sit exactly at their tier's cap.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { tierCap } from "../../../policies/lib/capacity.js";
import { POLICIES } from "../../../policies/policies.js";
import { captureStack } from "../../../runners/infra/capture.js";
import type { CapturedGraph } from "../../../runners/infra/graph.js";
import { checkGraph, type GraphCheck } from "../../../runners/policy/check.js";
import { shippedStacks } from "../../../runners/policy/run.js";
import { loadCatalog } from "../../../tiers/catalog.js";
import { instanceTypeByName } from "../../../tiers/infra/instance-types.js";
import type { TierName } from "../../../tiers/schema/names.js";

const SHIPPED = shippedStacks();
const results = new Map<string, { graph: CapturedGraph; check: GraphCheck }>();

beforeAll(async () => {
  // Two at a time: each capture is a whole Node process with the Pulumi SDKs loaded.
  const queue = [...SHIPPED];
  await Promise.all(
    [0, 1].map(async () => {
      for (let s = queue.shift(); s; s = queue.shift()) {
        const graph = await captureStack(s);
        results.set(s, { graph, check: await checkGraph(graph) });
      }
    }),
  );
}, 240_000);

it("checks the six shipped stacks", () => {
  expect(SHIPPED).toStrictEqual(["base", "central", "chaos", "local", "stress", "ultimate"]);
});

describe.each(SHIPPED)("stack %s", (stack) => {
  it("has no violation, mandatory or advisory", () => {
    const { graph, check } = results.get(stack)!;
    expect(graph.error).toBeUndefined();
    expect(check.violations).toStrictEqual([]);
  });
});

describe("what the policies had to check", () => {
  /** Policies with nothing to check in a stack of that kind, and why. */
  const IDLE: Record<string, readonly string[]> = {
    // no RDS (the central stack's), no RoleBinding, not ephemeral; no Job (the load Jobs are the
    // orchestrator's, made at run time and checked with policies/lib/jobs.ts where they are rendered)
    eks: [
      "rds-encrypted-private",
      "s3-inbox-writers",
      "cross-namespace-binding",
      "ephemeral-expiry",
      "job-ttl",
    ],
    // the central analysis stack: ECS on Fargate (no Kubernetes object, node group or EKS cluster), not ephemeral;
    // its task images are pinned by the stack config's schema (test-tiers:central.images)
    central: [
      "job-ttl",
      "container-non-root",
      "container-read-only-root",
      "container-resources",
      "cross-namespace-binding",
      "eks-control-plane-logging",
      "eks-public-endpoint",
      "environment-default-deny",
      "environment-no-exposure",
      "ephemeral-expiry",
      "host-access",
      "pinned-images",
      "tier-capacity",
      "tier-instance-types",
      "workload-probes",
    ],
    // kubeconfig mode: nothing of AWS at all
    kubeconfig: [
      "job-ttl",
      "rds-encrypted-private",
      "s3-inbox-writers",
      "cross-namespace-binding",
      "ephemeral-expiry",
      "s3-encryption",
      "s3-public-access-block",
      "s3-tls-only",
      "s3-bundle-versioning",
      "s3-lifecycle-expiry",
      "tier-capacity",
      "tier-instance-types",
      "allowed-regions",
      "lifecycle-tags",
      "eks-control-plane-logging",
      "eks-public-endpoint",
    ],
  };

  it.each(SHIPPED)("%s: every other policy applied to at least one resource", (stack) => {
    const { graph, check } = results.get(stack)!;
    const outputs = graph.outputs as { mode?: string; program?: string };
    const mode = outputs.mode ?? outputs.program!;
    const idle = Object.entries(check.applied)
      .filter(([, n]) => n === 0)
      .map(([p]) => p);
    // A tier that injects faults binds the orchestrator's chaos Role: cross-namespace-binding has work.
    const chaos = graph.resources.some(
      (r) => r.type === "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
    );
    expect(idle.sort()).toStrictEqual(
      [...IDLE[mode]!].filter((p) => !(chaos && p === "cross-namespace-binding")).sort(),
    );
    expect(Object.keys(check.applied)).toHaveLength(POLICIES.length);
  });
});

describe("capacity of the shipped EKS stacks", () => {
  const catalog = loadCatalog();
  it.each(SHIPPED.filter((s) => s !== "local" && s !== "central"))(
    "%s: its node groups at their ceiling equal the tier's cap",
    (stack) => {
      const { graph } = results.get(stack)!;
      const tier = (graph.outputs as { tier: TierName }).tier;
      const groups = graph.resources.filter((r) => r.type === "aws:eks/nodeGroup:NodeGroup");
      const total = groups.reduce(
        (t, g) => {
          const type = instanceTypeByName((g.inputs.instanceTypes as string[])[0]!)!;
          const max = (g.inputs.scalingConfig as { maxSize: number }).maxSize;
          return { vcpu: t.vcpu + max * type.vcpu, memoryGiB: t.memoryGiB + max * type.memoryGiB };
        },
        { vcpu: 0, memoryGiB: 0 },
      );
      const cap = tierCap(catalog, tier);
      expect(groups).toHaveLength(cap.regions);
      expect(total).toStrictEqual({ vcpu: cap.vcpu, memoryGiB: cap.memoryGiB });
    },
  );
});
