import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { CHAOS_MESH_CHART, CHAOS_MESH_NAMESPACE, CONTAINERD_SOCKET } from "../../tiers/infra/chaos-mesh.js";
import type { Children } from "../shared/children.js";

export interface ChaosMeshArgs {
  readonly stack: string;
  readonly tier: string;
  readonly region: string;
}

export interface ChaosMesh {
  readonly namespace: k8s.core.v1.Namespace;
  readonly release: k8s.helm.v3.Release;
}

/**
 * The Helm values, pinned here rather than left to the chart's defaults where they matter:
 *
 * - `chaosDaemon.runtime` / `socketPath`: EKS's nodes run containerd (the chart defaults to docker);
 *   chaos-daemon reaches the SUT's containers through this socket.
 * - `controllerManager.enableFilterNamespace`: Chaos Mesh injects only into namespaces annotated
 *   `chaos-mesh.org/inject=enabled` — the environment namespaces of a chaos tier, never
 *   kube-system, monitoring or another platform namespace, whatever a resource's selector says.
 * - `dashboard.create: false`: nobody drives experiments by hand here; the orchestrator creates
 *   them through the API, so the dashboard would only be one more Service with cluster-wide rights.
 */
export function chaosMeshValues(): Record<string, unknown> {
  return {
    chaosDaemon: { runtime: "containerd", socketPath: CONTAINERD_SOCKET },
    controllerManager: { enableFilterNamespace: true },
    dashboard: { create: false },
  };
}

/**
 * Chaos Mesh in the region's cluster: its own namespace, privileged under Pod Security Admission
 * (chaos-daemon is a privileged DaemonSet with hostPID and the runtime socket; the policy pack's
 * host-access and container rules exempt exactly this namespace, policies/lib/namespaces.ts), and
 * the chart through a Helm v3 Release at a pinned version.
 */
export function createChaosMesh(
  c: Children,
  args: ChaosMeshArgs,
  dependsOn: readonly pulumi.Resource[],
): ChaosMesh {
  const labels = {
    "app.kubernetes.io/part-of": "test-tiers",
    "app.kubernetes.io/managed-by": "pulumi",
    "test-tiers/stack": args.stack,
    "test-tiers/tier": args.tier,
    "test-tiers/region": args.region,
  };
  const namespace = new k8s.core.v1.Namespace(
    c.name("chaos-mesh"),
    {
      metadata: {
        name: CHAOS_MESH_NAMESPACE,
        labels: {
          ...labels,
          "pod-security.kubernetes.io/enforce": "privileged",
          "pod-security.kubernetes.io/enforce-version": "latest",
          // Still reported: what runs privileged here shows up in warnings and the audit log.
          "pod-security.kubernetes.io/warn": "restricted",
          "pod-security.kubernetes.io/audit": "restricted",
        },
      },
    },
    c.opts({ dependsOn: [...dependsOn] }),
  );
  const release = new k8s.helm.v3.Release(
    c.name("chaos-mesh"),
    {
      name: "chaos-mesh",
      chart: CHAOS_MESH_CHART.chart,
      version: CHAOS_MESH_CHART.version,
      repositoryOpts: { repo: CHAOS_MESH_CHART.repo },
      namespace: namespace.metadata.name,
      createNamespace: false,
      // The chart's CRDs are what the orchestrator's resources need; a failed install is rolled back.
      atomic: true,
      timeout: 600,
      values: chaosMeshValues(),
    },
    c.opts({ dependsOn: [namespace] }),
  );
  return { namespace, release };
}
