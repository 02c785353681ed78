import { stringify } from "yaml";
import type { CapturedGraph, CapturedResource } from "../../infra/graph.js";

type Obj = Record<string, unknown>;

/** What the Pulumi program registered for one isolated environment, as the offline capture holds it. */
export interface CapturedEnvironment {
  /** The environment id (the orchestrator's TIERS_ENVIRONMENT). */
  readonly id: string;
  readonly namespace: string;
  readonly configMaps: readonly Obj[];
  /** Values redacted by the capture: the runner fills them in (`SecretValues`). */
  readonly secrets: readonly Obj[];
  readonly claims: readonly Obj[];
  /** By Deployment name: orchestrator, sut, iperf3. */
  readonly deployments: Readonly<Record<string, Obj>>;
  /** Service name → the selector of the pods behind it. */
  readonly services: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** The cert-manager Certificates of the namespace: the Secret each fills and its DNS names. */
  readonly certificates: readonly { readonly secretName: string; readonly dnsNames: readonly string[] }[];
}

const meta = (o: Obj) =>
  (o.metadata ?? {}) as { name?: string; namespace?: string; labels?: Record<string, string> };
const byType = (graph: CapturedGraph, type: string): CapturedResource[] =>
  graph.resources.filter((r) => r.type === type);

/** A Deployment's one container (the program registers one per pod). */
export function containerOf(deployment: Obj): Obj {
  const spec = ((deployment.spec as Obj).template as Obj).spec as Obj;
  return (spec.containers as Obj[])[0]!;
}

export function podSpecOf(deployment: Obj): Obj {
  return ((deployment.spec as Obj).template as Obj).spec as Obj;
}

/**
 * Groups the captured Kubernetes objects by namespace: one isolated environment each (the namespace
 * that holds an orchestrator Deployment). Everything else the program registers there
 * (NetworkPolicies, quotas, roles, the monitoring objects) podman does not run.
 */
export function environmentsFromCapture(graph: CapturedGraph): CapturedEnvironment[] {
  const inNamespace = (type: string, ns: string) =>
    byType(graph, type)
      .map((r) => r.inputs)
      .filter((o) => meta(o).namespace === ns);
  const orchestrators = byType(graph, "kubernetes:apps/v1:Deployment").filter(
    (r) => meta(r.inputs).name === "orchestrator",
  );
  return orchestrators.map((r) => {
    const ns = meta(r.inputs).namespace!;
    const env = (containerOf(r.inputs).env as { name: string; value?: string }[]).find(
      (e) => e.name === "TIERS_ENVIRONMENT",
    );
    const deployments: Record<string, Obj> = {};
    for (const d of inNamespace("kubernetes:apps/v1:Deployment", ns)) deployments[meta(d).name!] = d;
    const services: Record<string, Record<string, string>> = {};
    for (const s of inNamespace("kubernetes:core/v1:Service", ns))
      services[meta(s).name!] = ((s.spec as Obj).selector ?? {}) as Record<string, string>;
    return {
      id: env?.value ?? ns,
      namespace: ns,
      configMaps: inNamespace("kubernetes:core/v1:ConfigMap", ns),
      secrets: inNamespace("kubernetes:core/v1:Secret", ns),
      claims: inNamespace("kubernetes:core/v1:PersistentVolumeClaim", ns),
      deployments,
      services,
      certificates: inNamespace("kubernetes:cert-manager.io/v1:Certificate", ns).map((c) => {
        const spec = (c.spec ?? {}) as { secretName?: string; dnsNames?: string[] };
        return { secretName: String(spec.secretName), dnsNames: spec.dnsNames ?? [] };
      }),
    };
  });
}

/** The real values of an environment's Secrets (by Secret name, then key), made by the runner. */
export type SecretValues = Readonly<Record<string, Readonly<Record<string, string>>>>;

export interface RenderOptions {
  /** Prefixes every name that is global to podman (pods, volumes, secrets): `tiers-<run>-<env>`. */
  readonly prefix: string;
  /** Labels added to every pod and volume, so a sweep finds what a run left. */
  readonly labels: Readonly<Record<string, string>>;
  /** Service name → IP of its pod, as /etc/hosts entries (podman runs no Services). */
  readonly hosts?: Readonly<Record<string, string>>;
}

/** The podman-global name of a namespaced object. */
export const globalName = (prefix: string, name: string) => `${prefix}-${name}`;

/**
 * One Deployment as podman runs it: the pod spec as the program registered it, with only what
 * podman 4.3 needs changed, all of it names and volume sources, never env, args, mount paths or
 * security contexts:
 * - names podman keeps globally get the environment's prefix: the Deployment, the claims, the
 *   ConfigMaps and Secrets it refers to, and its emptyDir volumes (podman makes each a named
 *   volume, which two environments' pods would otherwise share);
 * - a Secret volume becomes a claim on a volume the runner fills beforehand (`secretVolumeName`):
 *   podman 4.3's kube play crashes on secret volumes (a nil secrets manager) and writes ConfigMap
 *   files world-readable, which the orchestrator refuses for a signing key;
 * - the run's labels are added, and the Services it calls become host aliases.
 */
export function renderDeployment(deployment: Obj, options: RenderOptions): Obj {
  const d = structuredClone(deployment);
  const m = d.metadata as Obj;
  const app = String(m.name);
  m.name = globalName(options.prefix, app);
  delete m.namespace;
  m.labels = { ...(m.labels as Obj), ...options.labels };
  const template = (d.spec as Obj).template as Obj;
  template.metadata = {
    ...(template.metadata as Obj),
    labels: { ...((template.metadata as Obj).labels as Obj), ...options.labels },
  };
  const pod = template.spec as Obj;
  const containers = pod.containers as Obj[];
  const renamed = new Map<string, string>();
  for (const v of (pod.volumes ?? []) as Obj[]) {
    const pvc = v.persistentVolumeClaim as Obj | undefined;
    if (pvc) pvc.claimName = globalName(options.prefix, String(pvc.claimName));
    const configMap = v.configMap as Obj | undefined;
    if (configMap) configMap.name = globalName(options.prefix, String(configMap.name));
    const secret = v.secret as Obj | undefined;
    if (secret) {
      delete v.secret;
      v.persistentVolumeClaim = { claimName: secretVolumeName(options.prefix, String(secret.secretName)) };
    }
    if (v.emptyDir !== undefined) {
      const name = globalName(options.prefix, `${app}-${String(v.name)}`);
      renamed.set(String(v.name), name);
      v.name = name;
    }
  }
  for (const c of containers) {
    // podman 4.3 publishes every containerPort on the host's 0.0.0.0 (4.4 stopped doing so): the
    // ports go, the probes name their port by number, and the runner reaches the pod's address.
    const ports = new Map(
      ((c.ports ?? []) as { name?: string; containerPort: number }[]).map((p) => [p.name, p.containerPort]),
    );
    delete c.ports;
    for (const probe of ["livenessProbe", "readinessProbe", "startupProbe"]) {
      const action = (c[probe] as Obj | undefined)?.httpGet ?? (c[probe] as Obj | undefined)?.tcpSocket;
      if (action && typeof (action as Obj).port === "string")
        (action as Obj).port = ports.get(String((action as Obj).port));
    }
    for (const mount of (c.volumeMounts ?? []) as Obj[]) {
      const to = renamed.get(String(mount.name));
      if (to !== undefined) mount.name = to;
    }
    for (const e of (c.env ?? []) as Obj[]) {
      const ref = (e.valueFrom as Obj | undefined)?.secretKeyRef as Obj | undefined;
      if (ref) ref.name = globalName(options.prefix, String(ref.name));
    }
  }
  if (options.hosts && Object.keys(options.hosts).length > 0) {
    pod.hostAliases = Object.entries(options.hosts).map(([host, ip]) => ({ ip, hostnames: [host] }));
  }
  return d;
}

/** The volume that holds a Secret's files for the pods that mount it. */
export function secretVolumeName(prefix: string, secretName: string): string {
  return globalName(prefix, `${secretName}-files`);
}

/** The Secrets a Deployment mounts as volumes. */
export function mountedSecrets(deployment: Obj): string[] {
  return ((podSpecOf(deployment).volumes ?? []) as { secret?: { secretName: string } }[]).flatMap((v) =>
    v.secret ? [v.secret.secretName] : [],
  );
}

export function renderClaim(claim: Obj, options: RenderOptions): Obj {
  const c = structuredClone(claim);
  const m = c.metadata as Obj;
  m.name = globalName(options.prefix, String(m.name));
  delete m.namespace;
  m.labels = { ...(m.labels as Obj), ...options.labels };
  return c;
}

/**
 * A Secret with its real values as `podman secret create` takes it for `secretKeyRef`: podman 4.3
 * reads a JSON object of base64 values.
 */
export function renderSecret(
  secret: Obj,
  values: SecretValues,
  options: RenderOptions,
): { name: string; json: string } {
  const name = String(meta(secret).name);
  const data = values[name];
  if (!data) throw new Error(`no value for Secret ${name}`);
  return {
    name: globalName(options.prefix, name),
    json: JSON.stringify(
      Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString("base64")])),
    ),
  };
}

/** A ConfigMap as `podman kube play --configmap` takes it (one a file), its name prefixed. */
export function renderConfigMap(configMap: Obj, options: RenderOptions): { name: string; yaml: string } {
  const c = structuredClone(configMap);
  const m = c.metadata as Obj;
  delete m.namespace;
  m.name = globalName(options.prefix, String(m.name));
  return { name: String(m.name), yaml: stringify({ apiVersion: "v1", kind: "ConfigMap", ...c }) };
}

export function toYaml(docs: readonly Obj[]): string {
  return docs.map((d) => stringify(d)).join("---\n");
}

/** Pods whose labels match a Service's selector. */
export function matches(
  labels: Readonly<Record<string, string>>,
  selector: Readonly<Record<string, string>>,
): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}
