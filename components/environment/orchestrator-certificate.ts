import * as k8s from "@pulumi/kubernetes";
import type { Children } from "../shared/children.js";
import type { ObjectMeta } from "./guardrails.js";

/** The orchestrator's Service, whose names its certificate carries (workloads.ts names it so). */
export const ORCHESTRATOR_SERVICE = "orchestrator";
export const ORCHESTRATOR_TLS_SECRET = "orchestrator-tls";

/**
 * The DNS names of the orchestrator's Service in `namespace`, as a pod of the cluster may write
 * them (`orchestrator`, `orchestrator.<ns>`, `orchestrator.<ns>.svc`, `….svc.cluster.local`). The
 * runner, reaching the pod through a port-forward, verifies `orchestrator.<ns>.svc`
 * (runners/cluster/cluster-target.ts).
 */
export function orchestratorDnsNames(namespace: string): string[] {
  const s = ORCHESTRATOR_SERVICE;
  const svc = orchestratorServerName(namespace);
  return [s, `${s}.${namespace}`, svc, `${svc}.cluster.local`];
}

/**
 * The name a runner verifies the orchestrator's certificate by (and sends as SNI): its Service's
 * `<service>.<namespace>.svc`, reached through a port-forward or a pod address.
 */
export function orchestratorServerName(namespace: string, service: string = ORCHESTRATOR_SERVICE): string {
  return `${service}.${namespace}.svc`;
}

/**
 * The cert-manager Certificate of the environment's orchestrator, issued by the region's CA
 * ClusterIssuer into the Secret the orchestrator Deployment mounts. The Kubernetes provider waits
 * for it to be Ready (`pulumi.com/waitFor`), so the Deployment, which depends on it, never starts
 * before its Secret exists. ECDSA P-256, 90 days, renewed 15 days before; the orchestrator reads the
 * files when it starts, so a renewed certificate is served from the next restart of its pod.
 */
export function createOrchestratorCertificate(
  c: Children,
  meta: ObjectMeta,
  o: { readonly namespace: string; readonly issuer: string },
): { resource: k8s.apiextensions.CustomResource; secretName: string } {
  const resource = new k8s.apiextensions.CustomResource(
    c.name("orchestrator-tls"),
    {
      apiVersion: "cert-manager.io/v1",
      kind: "Certificate",
      metadata: {
        ...meta(ORCHESTRATOR_TLS_SECRET, "orchestrator"),
        annotations: { "pulumi.com/waitFor": "condition=Ready" },
      },
      spec: {
        secretName: ORCHESTRATOR_TLS_SECRET,
        dnsNames: orchestratorDnsNames(o.namespace),
        duration: "2160h",
        renewBefore: "360h",
        privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Always" },
        usages: ["server auth", "digital signature"],
        issuerRef: { name: o.issuer, kind: "ClusterIssuer", group: "cert-manager.io" },
      },
    },
    c.opts(),
  );
  return { resource, secretName: ORCHESTRATOR_TLS_SECRET };
}
