import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { Resources } from "../../tiers/infra/sizing.js";
import { CONTAINER_DEFAULTS } from "../../tiers/infra/workload-sizing.js";
import type { Children } from "../shared/children.js";
import { networkPolicySpecs } from "./network-policies.js";
import { quantities } from "./pod-security.js";

/** Metadata of an object in the environment's namespace: its name, the namespace, the labels. */
export type ObjectMeta = (
  name: string,
  app?: string,
) => { name: string; namespace: pulumi.Output<string>; labels: Record<string, string> };

/**
 * What bounds an environment's namespace: its NetworkPolicies, a ResourceQuota (requests and limits
 * = the environment's share; no LoadBalancer, no NodePort) and a LimitRange (defaults for
 * containers that state nothing; nothing larger than one node).
 */
export function createGuardrails(
  c: Children,
  meta: ObjectMeta,
  o: {
    readonly quota: Resources;
    readonly maxContainer: Resources;
    readonly monitoringNamespace: string;
    readonly bundleUploadExcept?: pulumi.Input<pulumi.Input<string>[]>;
    readonly kubeApiCidrs?: pulumi.Input<pulumi.Input<string>[]>;
    readonly argoKubeApiCidrs?: pulumi.Input<pulumi.Input<string>[]>;
  },
): void {
  for (const p of networkPolicySpecs({
    monitoringNamespace: o.monitoringNamespace,
    ...(o.bundleUploadExcept !== undefined ? { bundleUpload: { exceptCidrs: o.bundleUploadExcept } } : {}),
    ...(o.kubeApiCidrs !== undefined ? { kubeApi: { cidrs: o.kubeApiCidrs } } : {}),
    ...(o.argoKubeApiCidrs !== undefined ? { argoKubeApi: { cidrs: o.argoKubeApiCidrs } } : {}),
  })) {
    new k8s.networking.v1.NetworkPolicy(c.name(p.name), { metadata: meta(p.name), spec: p.spec }, c.opts());
  }
  const quota = quantities(o.quota);
  new k8s.core.v1.ResourceQuota(
    c.name("quota"),
    {
      metadata: meta("environment"),
      spec: {
        hard: {
          "requests.cpu": quota.cpu,
          "requests.memory": quota.memory,
          "limits.cpu": quota.cpu,
          "limits.memory": quota.memory,
          // Nothing of an environment is reachable from outside the cluster.
          "services.loadbalancers": "0",
          "services.nodeports": "0",
        },
      },
    },
    c.opts(),
  );
  new k8s.core.v1.LimitRange(
    c.name("limits"),
    {
      metadata: meta("container-defaults"),
      spec: {
        limits: [
          {
            type: "Container",
            default: quantities(CONTAINER_DEFAULTS.limits),
            defaultRequest: quantities(CONTAINER_DEFAULTS.requests),
            max: quantities({
              cpu_millis: Math.min(o.quota.cpu_millis, o.maxContainer.cpu_millis),
              memory_bytes: Math.min(o.quota.memory_bytes, o.maxContainer.memory_bytes),
            }),
          },
        ],
      },
    },
    c.opts(),
  );
}
