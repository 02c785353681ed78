/**
 * Namespaces whose workloads may reach the node: the documented exception list of the host-access
 * and hardening policies. Platform agents that later issues install need what environments must
 * never have:
 *
 * - `chaos-mesh`: Chaos Mesh's chaos-daemon DaemonSet runs privileged, as root, with hostPID and
 *   hostPath mounts of the container runtime socket and /sys, to inject faults into other pods.
 * - `monitoring`: kube-prometheus-stack's node-exporter DaemonSet uses hostNetwork, hostPID and
 *   read-only hostPath mounts of /proc, /sys and / to report node metrics.
 *
 * An environment namespace is never exempt: the policies refuse the exemption when one is listed.
 */
export const DEFAULT_EXEMPT_NAMESPACES: readonly string[] = ["chaos-mesh", "monitoring"];

/** The `exemptNamespaces` config property the hardening policies share. */
export const EXEMPT_NAMESPACES_SCHEMA = {
  type: "array",
  items: { type: "string", pattern: "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$" },
  uniqueItems: true,
  default: [...DEFAULT_EXEMPT_NAMESPACES],
  description:
    "Namespaces whose workloads are exempt (platform agents: chaos-mesh for the chaos daemon, monitoring for node-exporter).",
} as const;

export interface ExemptConfig {
  readonly exemptNamespaces: readonly string[];
}
