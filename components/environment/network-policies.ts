import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ARGO_POD_LABEL } from "../../tiers/workflow/argo.js";

type Spec = k8s.types.input.networking.v1.NetworkPolicySpec;

export interface NetworkPolicyOptions {
  /** Namespace whose pods (Prometheus) may scrape this environment's `http` ports. */
  readonly monitoringNamespace: string;
  /**
   * Lets pods labelled `app.kubernetes.io/name=orchestrator` reach HTTPS outside the cluster's
   * network (S3 and STS for bundle upload) — everything but these CIDRs (the VPC: other environments).
   */
  readonly bundleUpload?: { readonly exceptCidrs: pulumi.Input<pulumi.Input<string>[]> };
  /**
   * Lets the orchestrator reach the Kubernetes API server (its chaos injectors): TCP 443 and 6443
   * to these CIDRs only — on EKS the VPC's, where the control plane's endpoint interfaces are.
   */
  readonly kubeApi?: { readonly cidrs: pulumi.Input<pulumi.Input<string>[]> };
  /**
   * The environment's Argo pods reach the Kubernetes API server: the controller watches and writes
   * its workflows, each step's executor reports its outputs. TCP 443 and 6443 to these CIDRs only.
   */
  readonly argoKubeApi?: { readonly cidrs: pulumi.Input<pulumi.Input<string>[]> };
}

/**
 * The environment's NetworkPolicies: deny everything in and out, then allow only DNS, traffic
 * inside the namespace, scrapes from monitoring and (on EKS) HTTPS to AWS for bundle upload.
 * Policies are additive, so these allowances are all any pod of the namespace gets.
 */
export function networkPolicySpecs(o: NetworkPolicyOptions): { name: string; spec: Spec }[] {
  const all = {};
  const policies: { name: string; spec: Spec }[] = [
    { name: "default-deny", spec: { podSelector: all, policyTypes: ["Ingress", "Egress"] } },
    {
      name: "allow-dns",
      spec: {
        podSelector: all,
        policyTypes: ["Egress"],
        egress: [
          {
            to: [
              {
                namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
                podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
              },
            ],
            ports: [
              { protocol: "UDP", port: 53 },
              { protocol: "TCP", port: 53 },
            ],
          },
        ],
      },
    },
    {
      name: "allow-same-namespace",
      spec: {
        podSelector: all,
        policyTypes: ["Ingress", "Egress"],
        ingress: [{ from: [{ podSelector: all }] }],
        egress: [{ to: [{ podSelector: all }] }],
      },
    },
    {
      name: "allow-monitoring-scrape",
      spec: {
        podSelector: all,
        policyTypes: ["Ingress"],
        ingress: [
          {
            from: [
              {
                namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": o.monitoringNamespace } },
              },
            ],
            ports: [{ protocol: "TCP", port: "http" }],
          },
        ],
      },
    },
  ];
  if (o.bundleUpload) {
    policies.push({
      name: "allow-bundle-upload",
      spec: {
        podSelector: { matchLabels: { "app.kubernetes.io/name": "orchestrator" } },
        policyTypes: ["Egress"],
        egress: [
          {
            to: [{ ipBlock: { cidr: "0.0.0.0/0", except: o.bundleUpload.exceptCidrs } }],
            ports: [{ protocol: "TCP", port: 443 }],
          },
        ],
      },
    });
  }
  if (o.kubeApi) {
    const cidrs = o.kubeApi.cidrs;
    policies.push({
      name: "allow-kube-api",
      spec: {
        podSelector: { matchLabels: { "app.kubernetes.io/name": "orchestrator" } },
        policyTypes: ["Egress"],
        egress: [
          {
            to: pulumiMap(cidrs, (cidr) => ({ ipBlock: { cidr } })),
            ports: [
              { protocol: "TCP", port: 443 },
              { protocol: "TCP", port: 6443 },
            ],
          },
        ],
      },
    });
  }
  if (o.argoKubeApi) {
    policies.push({
      name: "allow-argo-kube-api",
      spec: {
        podSelector: {
          matchExpressions: [{ key: ARGO_POD_LABEL, operator: "In", values: ["controller", "step"] }],
        },
        policyTypes: ["Egress"],
        egress: [
          {
            to: pulumiMap(o.argoKubeApi.cidrs, (cidr) => ({ ipBlock: { cidr } })),
            ports: [
              { protocol: "TCP", port: 443 },
              { protocol: "TCP", port: 6443 },
            ],
          },
        ],
      },
    });
  }
  if (o.bundleUpload && o.argoKubeApi) {
    // The export step uploads the bundle as the orchestrator's API does: HTTPS out of the VPC.
    policies.push({
      name: "allow-argo-bundle-upload",
      spec: {
        podSelector: { matchLabels: { [ARGO_POD_LABEL]: "step" } },
        policyTypes: ["Egress"],
        egress: [
          {
            to: [{ ipBlock: { cidr: "0.0.0.0/0", except: o.bundleUpload.exceptCidrs } }],
            ports: [{ protocol: "TCP", port: 443 }],
          },
        ],
      },
    });
  }
  return policies;
}

/** `items.map(f)` for a list that may be an Output. */
function pulumiMap<T, U>(
  items: pulumi.Input<pulumi.Input<T>[]>,
  f: (item: pulumi.Input<T>) => U,
): pulumi.Input<U[]> {
  return pulumi.output(items).apply((xs) => xs.map((x) => f(x as pulumi.Input<T>)));
}
