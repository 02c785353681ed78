import type * as k8s from "@pulumi/kubernetes";
import { cpuQuantity, memoryQuantity, type Resources } from "../../tiers/infra/sizing.js";
import type { ContainerResources } from "../../tiers/infra/workload-sizing.js";

type PodSecurityContext = k8s.types.input.core.v1.PodSecurityContext;
type SecurityContext = k8s.types.input.core.v1.SecurityContext;
type Container = k8s.types.input.core.v1.Container;

/** The non-root user and group every workload runs as (images must not need a particular uid). */
export const WORKLOAD_UID = 10001;

/** Pod-level settings the `restricted` Pod Security Standard requires, plus a fixed non-root identity. */
export function restrictedPodSecurity(): PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: WORKLOAD_UID,
    runAsGroup: WORKLOAD_UID,
    fsGroup: WORKLOAD_UID,
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** Container-level settings: no privilege escalation, no capabilities, read-only root filesystem. */
export function restrictedContainerSecurity(): SecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: WORKLOAD_UID,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    privileged: false,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
}

export function quantities(r: Resources): { cpu: string; memory: string } {
  return { cpu: cpuQuantity(r.cpu_millis), memory: memoryQuantity(r.memory_bytes) };
}

export function resourceRequirements(r: ContainerResources): k8s.types.input.core.v1.ResourceRequirements {
  return { requests: quantities(r.requests), limits: quantities(r.limits) };
}

/** A container with the restricted security context and its resources; a writable /tmp is the caller's volume "tmp". */
export function hardenedContainer(
  spec: Omit<Container, "securityContext" | "resources"> & { readonly resources: ContainerResources },
): Container {
  const { resources, volumeMounts, ...rest } = spec;
  return {
    ...rest,
    resources: resourceRequirements(resources),
    securityContext: restrictedContainerSecurity(),
    volumeMounts: [
      { name: "tmp", mountPath: "/tmp" },
      ...((volumeMounts as k8s.types.input.core.v1.VolumeMount[] | undefined) ?? []),
    ],
  };
}

/** The emptyDir every hardened container writes its /tmp to (the root filesystem is read-only). */
export const TMP_VOLUME: k8s.types.input.core.v1.Volume = { name: "tmp", emptyDir: { sizeLimit: "1Gi" } };
