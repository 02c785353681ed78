import * as certmanager from "@pulumi/kubernetes-cert-manager";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { LABELS } from "../../tiers/infra/identity.js";
import type { PlatformProviders, RegionPlatformArgs } from "./region-platform.js";

/** The cert-manager chart the component installs: pinned, so an `up` next month installs the same. */
export const CERT_MANAGER_CHART_VERSION = "v1.17.2";
export const CERT_MANAGER_NAMESPACE = "cert-manager";
/** Bootstraps the CA: signs the CA certificate with its own key (cert-manager's SelfSigned issuer). */
export const SELF_SIGNED_ISSUER = "tiers-selfsigned";
/** Issues every orchestrator's certificate from the region's CA (cert-manager's CA issuer). */
export const CA_ISSUER = "tiers-ca";
/** The Secret (in CERT_MANAGER_NAMESPACE) cert-manager writes the CA's certificate and key to. */
export const CA_SECRET = "tiers-ca";

/**
 * What makes cert-manager await: the Kubernetes provider waits for a custom resource until this
 * condition holds (`pulumi.com/waitFor`, @pulumi/kubernetes ≥ 4.18), so nothing that needs a
 * certificate's Secret is created before cert-manager has written it.
 */
export const WAIT_FOR_READY = { "pulumi.com/waitFor": "condition=Ready" } as const;

export interface RegionCertificates {
  /** The installed cert-manager and the CA issuer: what an environment's Certificate waits for. */
  readonly ready: pulumi.Resource[];
  /** The ClusterIssuer the environments' Certificates name. */
  readonly issuer: string;
  /** PEM of the region's CA: the stack output the runner verifies every orchestrator against. */
  readonly caCertificate: pulumi.Output<string | undefined>;
}

/**
 * cert-manager for one region's cluster, through @pulumi/kubernetes-cert-manager, and the CA every
 * orchestrator's certificate chains to:
 *
 * 1. the `cert-manager` namespace and the CertManager component (its Helm chart pinned, CRDs
 *    installed with it);
 * 2. a SelfSigned ClusterIssuer, which signs
 * 3. a CA Certificate (isCA, ECDSA P-256) whose Secret holds the region's CA, the only thing
 * 4. the CA ClusterIssuer signs with: each environment's Certificate (components/environment/
 *    orchestrator-certificate.ts) names it;
 * 5. the CA's certificate read back from that Secret once the Certificate is Ready: a stack output.
 *
 * CertManager is a remote (multi-language) component: its Helm release is made by the
 * `kubernetes-cert-manager` provider plugin's Construct, which Pulumi's mock runtime never calls,
 * so the offline graph holds the component with its inputs and no children (docs/architecture.md,
 * "cert-manager").
 */
export function createCertificates(
  name: string,
  args: RegionPlatformArgs,
  providers: PlatformProviders,
  parent: pulumi.Resource,
): RegionCertificates {
  const provider = providers.kubernetes;
  const opts = (extra: pulumi.CustomResourceOptions = {}): pulumi.CustomResourceOptions => ({
    ...extra,
    parent,
    provider,
  });
  const labels = {
    "app.kubernetes.io/part-of": "test-tiers",
    "app.kubernetes.io/managed-by": "pulumi",
    [LABELS.stack]: args.stack,
    [LABELS.tier]: args.tier,
    [LABELS.region]: args.region,
  };
  const ns = new k8s.core.v1.Namespace(
    `${name}-cert-manager-ns`,
    {
      metadata: {
        name: CERT_MANAGER_NAMESPACE,
        // cert-manager's controller, webhook and cainjector run as non-root with every capability
        // dropped and the runtime's seccomp profile (the chart's defaults): restricted admits them.
        labels: {
          ...labels,
          "pod-security.kubernetes.io/enforce": "restricted",
          "pod-security.kubernetes.io/enforce-version": "latest",
        },
      },
    },
    opts({ dependsOn: [...args.dependsOn] }),
  );
  const manager = new certmanager.CertManager(
    `${name}-cert-manager`,
    {
      installCRDs: true,
      helmOptions: {
        name: "cert-manager",
        namespace: ns.metadata.name,
        version: CERT_MANAGER_CHART_VERSION,
        // Wait for the controller and its webhook, so the issuers below are admitted.
        skipAwait: false,
      },
      podLabels: labels,
    },
    // A remote component: the Kubernetes provider goes to its children through `providers`.
    { parent, providers: { kubernetes: provider }, dependsOn: [ns] },
  );
  const after = { dependsOn: [manager] };
  const selfSigned = new k8s.apiextensions.CustomResource(
    `${name}-selfsigned-issuer`,
    {
      apiVersion: "cert-manager.io/v1",
      kind: "ClusterIssuer",
      metadata: { name: SELF_SIGNED_ISSUER, labels },
      spec: { selfSigned: {} },
    },
    opts(after),
  );
  const ca = new k8s.apiextensions.CustomResource(
    `${name}-ca`,
    {
      apiVersion: "cert-manager.io/v1",
      kind: "Certificate",
      metadata: {
        name: CA_SECRET,
        namespace: CERT_MANAGER_NAMESPACE,
        labels,
        annotations: WAIT_FOR_READY,
      },
      spec: {
        isCA: true,
        commonName: `test-tiers ${args.stack} ${args.region} CA`,
        secretName: CA_SECRET,
        duration: "8760h",
        renewBefore: "720h",
        privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Always" },
        issuerRef: { name: SELF_SIGNED_ISSUER, kind: "ClusterIssuer", group: "cert-manager.io" },
      },
    },
    opts({ dependsOn: [selfSigned] }),
  );
  const caIssuer = new k8s.apiextensions.CustomResource(
    `${name}-ca-issuer`,
    {
      apiVersion: "cert-manager.io/v1",
      kind: "ClusterIssuer",
      metadata: { name: CA_ISSUER, labels, annotations: WAIT_FOR_READY },
      spec: { ca: { secretName: CA_SECRET } },
    },
    opts({ dependsOn: [ca] }),
  );
  // The id waits for the Certificate (Ready, by its annotation): unknown in a preview of a new
  // stack, so the read happens only once cert-manager has written the Secret.
  const secret = k8s.core.v1.Secret.get(
    `${name}-ca-secret`,
    pulumi.interpolate`${ca.metadata.namespace}/${CA_SECRET}`,
    { parent, provider, dependsOn: [ca] },
  );
  // `ca.crt` of a CA certificate's Secret is the CA itself; it is public, so not a secret output.
  const caCertificate = pulumi
    .unsecret(secret.data)
    .apply((data) =>
      data?.["ca.crt"] !== undefined ? Buffer.from(data["ca.crt"], "base64").toString("utf8") : undefined,
    );
  return { ready: [manager, caIssuer], issuer: CA_ISSUER, caCertificate };
}
