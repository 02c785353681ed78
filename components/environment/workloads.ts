import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { IPERF3_PORT } from "../../tiers/infra/defaults.js";
import type { WorkloadSizes } from "../../tiers/infra/workload-sizing.js";
import type { Children } from "../shared/children.js";
import { hardenedContainer, restrictedPodSecurity, TMP_VOLUME } from "./pod-security.js";

export const ORCHESTRATOR_PORT = 8080;
export { IPERF3_PORT };
export const ORCHESTRATOR_SERVICE_ACCOUNT = "orchestrator";
/** Where the orchestrator's certificate Secret is mounted. */
export const TLS_MOUNT = "/var/run/secrets/tiers/tls";

export interface EnvironmentImages {
  /** Runs `orchestrator serve`. */
  readonly orchestrator: string;
  /** The system under test. */
  readonly sut: string;
  /** The tools' image (iperf3 server); by default the orchestrator image, which carries the tools. */
  readonly adapters: string;
}

export interface SutSpec {
  /** Port the SUT listens on (named `http`). */
  readonly port: number;
  readonly replicas: number;
  /** Readiness and liveness path. */
  readonly healthPath: string;
  readonly args?: readonly string[];
}

interface WorkloadContext {
  readonly c: Children;
  readonly namespace: pulumi.Output<string>;
  readonly labels: (app: string) => Record<string, string>;
  readonly images: EnvironmentImages;
  readonly sizes: WorkloadSizes;
}

type EnvVar = k8s.types.input.core.v1.EnvVar;

/** A Deployment of one hardened container, and its ClusterIP Service. */
function deployWithService(
  w: WorkloadContext,
  app: string,
  spec: {
    readonly replicas: number;
    readonly strategy?: "Recreate" | "RollingUpdate";
    readonly container: k8s.types.input.core.v1.Container;
    readonly volumes?: k8s.types.input.core.v1.Volume[];
    readonly serviceAccountName?: pulumi.Input<string>;
    /** Mount the service account's token (the pod calls the Kubernetes API). @default false */
    readonly kubeApi?: boolean;
    readonly servicePorts: k8s.types.input.core.v1.ServicePort[];
    readonly dependsOn?: pulumi.Resource[];
    /** An autoscaler owns the replica count after creation. */
    readonly autoscaled?: boolean;
  },
): { deployment: k8s.apps.v1.Deployment; service: k8s.core.v1.Service } {
  const labels = w.labels(app);
  const selector = { "app.kubernetes.io/name": app };
  const deployment = new k8s.apps.v1.Deployment(
    w.c.name(app),
    {
      metadata: { name: app, namespace: w.namespace, labels },
      spec: {
        replicas: spec.replicas,
        ...(spec.strategy ? { strategy: { type: spec.strategy } } : {}),
        selector: { matchLabels: selector },
        template: {
          metadata: { labels },
          spec: {
            ...(spec.serviceAccountName ? { serviceAccountName: spec.serviceAccountName } : {}),
            automountServiceAccountToken: spec.kubeApi ?? false,
            securityContext: restrictedPodSecurity(),
            containers: [spec.container],
            volumes: [TMP_VOLUME, ...(spec.volumes ?? [])],
          },
        },
      },
    },
    w.c.opts({
      ...(spec.dependsOn ? { dependsOn: spec.dependsOn } : {}),
      ...(spec.autoscaled ? { ignoreChanges: ["spec.replicas"] } : {}),
    }),
  );
  const service = new k8s.core.v1.Service(
    w.c.name(app),
    {
      metadata: { name: app, namespace: w.namespace, labels },
      spec: { type: "ClusterIP", selector, ports: spec.servicePorts },
    },
    w.c.opts(),
  );
  return { deployment, service };
}

export function deployOrchestrator(
  w: WorkloadContext,
  o: {
    readonly serviceAccount: pulumi.Output<string>;
    readonly configMap: pulumi.Output<string>;
    readonly dataClaim: pulumi.Output<string>;
    readonly tokenSecret: pulumi.Output<string>;
    readonly signingSecret: pulumi.Output<string>;
    /** The Secret cert-manager writes the orchestrator's certificate to (`tls.crt`, `tls.key`). */
    readonly tlsSecret: string;
    /** Its Certificate: the pod waits for it (Ready), so the Secret exists when the pod mounts it. */
    readonly tlsCertificate: pulumi.Resource;
    /** The orchestrator creates objects in its namespace (Chaos Mesh resources): mount its token. */
    readonly kubeApi?: boolean;
    readonly env: readonly EnvVar[];
  },
): { deployment: k8s.apps.v1.Deployment; service: k8s.core.v1.Service } {
  // The kubelet's HTTPS probes do not verify the certificate; they only need the scheme.
  const http = { httpGet: { path: "/healthz", port: "http", scheme: "HTTPS" } };
  return deployWithService(w, "orchestrator", {
    replicas: 1,
    // One writer for the SQLite file on a ReadWriteOnce volume: stop the old pod before the new one starts.
    strategy: "Recreate",
    serviceAccountName: o.serviceAccount,
    ...(o.kubeApi ? { kubeApi: true } : {}),
    container: hardenedContainer({
      name: "orchestrator",
      image: w.images.orchestrator,
      // `args` only: the image's ENTRYPOINT (tini --) stays PID 1 and reaps orphaned tool processes.
      args: ["orchestrator", "serve"],
      ports: [{ name: "http", containerPort: ORCHESTRATOR_PORT, protocol: "TCP" }],
      env: [
        ...o.env,
        { name: "TIERS_API_TOKEN", valueFrom: { secretKeyRef: { name: o.tokenSecret, key: "token" } } },
        { name: "TIERS_TLS_CERT_FILE", value: `${TLS_MOUNT}/tls.crt` },
        { name: "TIERS_TLS_KEY_FILE", value: `${TLS_MOUNT}/tls.key` },
      ],
      resources: w.sizes.orchestrator,
      volumeMounts: [
        { name: "data", mountPath: "/data" },
        { name: "config", mountPath: "/etc/tiers", readOnly: true },
        { name: "signing-key", mountPath: "/var/run/secrets/tiers/signing", readOnly: true },
        { name: "tls", mountPath: TLS_MOUNT, readOnly: true },
      ],
      startupProbe: { ...http, periodSeconds: 2, failureThreshold: 60 },
      livenessProbe: { ...http, periodSeconds: 10, failureThreshold: 3 },
      readinessProbe: {
        httpGet: { path: "/readyz", port: "http", scheme: "HTTPS" },
        periodSeconds: 5,
        failureThreshold: 2,
      },
    }),
    volumes: [
      { name: "data", persistentVolumeClaim: { claimName: o.dataClaim } },
      { name: "config", configMap: { name: o.configMap } },
      { name: "signing-key", secret: { secretName: o.signingSecret, defaultMode: 0o440 } },
      // 0440: the fsGroup reads it (the orchestrator accepts a key its group may read, not write).
      { name: "tls", secret: { secretName: o.tlsSecret, defaultMode: 0o440 } },
    ],
    servicePorts: [{ name: "http", port: ORCHESTRATOR_PORT, targetPort: "http", protocol: "TCP" }],
    dependsOn: [o.tlsCertificate],
  });
}

export function deploySut(
  w: WorkloadContext,
  sut: SutSpec,
): { deployment: k8s.apps.v1.Deployment; service: k8s.core.v1.Service } {
  const probe = { httpGet: { path: sut.healthPath, port: "http" } };
  return deployWithService(w, "sut", {
    replicas: sut.replicas,
    // The SUT's HorizontalPodAutoscaler moves it between its minimum and maximum (workflow.ts).
    autoscaled: true,
    container: hardenedContainer({
      name: "sut",
      image: w.images.sut,
      ...(sut.args ? { args: [...sut.args] } : {}),
      ports: [{ name: "http", containerPort: sut.port, protocol: "TCP" }],
      env: [{ name: "PORT", value: String(sut.port) }],
      resources: w.sizes.sut,
      readinessProbe: { ...probe, periodSeconds: 5 },
      livenessProbe: { ...probe, periodSeconds: 10, failureThreshold: 3 },
    }),
    servicePorts: [{ name: "http", port: sut.port, targetPort: "http", protocol: "TCP" }],
  });
}

/** The server side of the iperf3 adapter: `iperf3 -s` (TCP control and data, UDP data on the same port). */
export function deployIperf3(w: WorkloadContext): {
  deployment: k8s.apps.v1.Deployment;
  service: k8s.core.v1.Service;
} {
  const tcp = { tcpSocket: { port: "iperf3" } };
  return deployWithService(w, "iperf3", {
    replicas: 1,
    container: hardenedContainer({
      name: "iperf3",
      image: w.images.adapters,
      args: ["iperf3", "--server", "--port", String(IPERF3_PORT)],
      ports: [
        { name: "iperf3", containerPort: IPERF3_PORT, protocol: "TCP" },
        { name: "iperf3-udp", containerPort: IPERF3_PORT, protocol: "UDP" },
      ],
      resources: w.sizes.iperf3,
      readinessProbe: { ...tcp, periodSeconds: 10 },
      livenessProbe: { ...tcp, periodSeconds: 20, failureThreshold: 3 },
    }),
    servicePorts: [
      { name: "iperf3", port: IPERF3_PORT, targetPort: "iperf3", protocol: "TCP" },
      { name: "iperf3-udp", port: IPERF3_PORT, targetPort: "iperf3-udp", protocol: "UDP" },
    ],
  });
}

export type { WorkloadContext };
