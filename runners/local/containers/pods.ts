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
 * podman needs changed — names that are global to podman prefixed (the Deployment, the claims and
 * Secrets it refers to), the run's labels added, and the Services it talks to as host aliases.
 * Env, args, mounts and security contexts are left exactly as registered.
 */
export function renderDeployment(deployment: Obj, options: RenderOptions): Obj {
  const d = structuredClone(deployment);
  const m = d.metadata as Obj;
  m.name = globalName(options.prefix, String(m.name));
  delete m.namespace;
  m.labels = { ...(m.labels as Obj), ...options.labels };
  const template = (d.spec as Obj).template as Obj;
  template.metadata = {
    ...(template.metadata as Obj),
    labels: { ...((template.metadata as Obj).labels as Obj), ...options.labels },
  };
  const pod = template.spec as Obj;
  for (const v of (pod.volumes ?? []) as Obj[]) {
    const pvc = v.persistentVolumeClaim as Obj | undefined;
    if (pvc) pvc.claimName = globalName(options.prefix, String(pvc.claimName));
    const secret = v.secret as Obj | undefined;
    if (secret) secret.secretName = globalName(options.prefix, String(secret.secretName));
  }
  for (const c of pod.containers as Obj[]) {
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

export function renderClaim(claim: Obj, options: RenderOptions): Obj {
  const c = structuredClone(claim);
  const m = c.metadata as Obj;
  m.name = globalName(options.prefix, String(m.name));
  delete m.namespace;
  m.labels = { ...(m.labels as Obj), ...options.labels };
  return c;
}

/** A Secret with its real values, as `podman secret create` takes it (a Kubernetes Secret document). */
export function renderSecret(
  secret: Obj,
  values: SecretValues,
  options: RenderOptions,
): { name: string; yaml: string } {
  const name = String(meta(secret).name);
  const data = values[name];
  if (!data) throw new Error(`no value for Secret ${name}`);
  const s: Obj = {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: globalName(options.prefix, name) },
    type: secret.type ?? "Opaque",
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString("base64")])),
  };
  return { name: globalName(options.prefix, name), yaml: stringify(s) };
}

export function renderConfigMap(configMap: Obj): string {
  const c = structuredClone(configMap);
  delete (c.metadata as Obj).namespace;
  return stringify({ kind: "ConfigMap", ...c });
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
