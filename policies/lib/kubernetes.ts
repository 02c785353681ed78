/** Kubernetes objects as policies see them: pod specs inside workloads, metadata, environment namespaces. */
import type { ResourceValidationArgs } from "@pulumi/policy";
import { LABELS } from "../../tiers/infra/identity.js";
import { get, list, record, str, stringMap, type Props } from "./props.js";
import type { ExemptConfig } from "./namespaces.js";

export const NAMESPACE_TYPE = "kubernetes:core/v1:Namespace";
export const SERVICE_TYPE = "kubernetes:core/v1:Service";
export const NETWORK_POLICY_TYPE = "kubernetes:networking.k8s.io/v1:NetworkPolicy";

/** Where each workload kind keeps its pod spec. */
export const POD_SPEC_PATHS: Readonly<Record<string, readonly string[]>> = {
  "kubernetes:core/v1:Pod": ["spec"],
  "kubernetes:core/v1:ReplicationController": ["spec", "template", "spec"],
  "kubernetes:apps/v1:Deployment": ["spec", "template", "spec"],
  "kubernetes:apps/v1:StatefulSet": ["spec", "template", "spec"],
  "kubernetes:apps/v1:DaemonSet": ["spec", "template", "spec"],
  "kubernetes:apps/v1:ReplicaSet": ["spec", "template", "spec"],
  "kubernetes:batch/v1:Job": ["spec", "template", "spec"],
  "kubernetes:batch/v1:CronJob": ["spec", "jobTemplate", "spec", "template", "spec"],
};

/** Workloads that run until replaced (as opposed to Jobs and bare Pods): they need probes. */
export const LONG_RUNNING_TYPES: ReadonlySet<string> = new Set([
  "kubernetes:core/v1:ReplicationController",
  "kubernetes:apps/v1:Deployment",
  "kubernetes:apps/v1:StatefulSet",
  "kubernetes:apps/v1:DaemonSet",
  "kubernetes:apps/v1:ReplicaSet",
]);

export interface Metadata {
  /** `metadata.name`, else the Pulumi name (the provider auto-names from it). */
  readonly name: string;
  /** `metadata.namespace`, else `default` (where the API server puts it). */
  readonly namespace: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
}

export function metadataOf(props: Props, pulumiName: string): Metadata {
  const meta = record(props.metadata) ?? {};
  return {
    name: str(meta.name) ?? pulumiName,
    namespace: str(meta.namespace) ?? "default",
    labels: stringMap(meta.labels),
    annotations: stringMap(meta.annotations),
  };
}

/** `Deployment tiers-env-1/sut`: how messages name an object. */
export function describeObject(type: string, meta: Metadata, namespaced = true): string {
  const kind = type.slice(type.lastIndexOf(":") + 1);
  return namespaced ? `${kind} ${meta.namespace}/${meta.name}` : `${kind} ${meta.name}`;
}

/** How messages name any resource: a Kubernetes object by kind, namespace and name, else `Kind name`. */
export function describeResource(type: string, props: Props, pulumiName: string): string {
  if (type.startsWith("kubernetes:") && record(props.metadata)) {
    return describeObject(
      type,
      metadataOf(props, pulumiName),
      str(get(props, ["metadata", "namespace"])) !== undefined,
    );
  }
  if (type.startsWith("pulumi:providers:"))
    return `${type.slice("pulumi:providers:".length)} provider ${pulumiName}`;
  return `${type.slice(type.lastIndexOf(":") + 1)} ${pulumiName}`;
}

export function podSpecOf(type: string, props: Props): Props | undefined {
  const path = POD_SPEC_PATHS[type];
  return path ? record(get(props, path)) : undefined;
}

export interface ContainerRef {
  /** `container sut`, `init container migrate`: how messages name it. */
  readonly label: string;
  readonly name: string;
  readonly init: boolean;
  readonly spec: Props;
}

/** Containers, init containers and ephemeral containers of a pod spec. */
export function containersOf(pod: Props, options: { readonly initToo?: boolean } = {}): ContainerRef[] {
  const initToo = options.initToo ?? true;
  const refs: ContainerRef[] = [];
  const add = (items: unknown, what: string, init: boolean): void => {
    for (const [i, c] of list(items).entries()) {
      const spec = record(c) ?? {};
      const name = str(spec.name) ?? `#${i + 1}`;
      refs.push({ label: `${what} ${name}`, name, init, spec });
    }
  };
  add(pod.containers, "container", false);
  if (initToo) {
    add(pod.initContainers, "init container", true);
    add(pod.ephemeralContainers, "ephemeral container", true);
  }
  return refs;
}

/** A resource with a pod spec, as the container policies check it. */
export interface Workload {
  readonly pod: Props;
  readonly meta: Metadata;
  /** `Deployment tiers-env-1/sut`: how messages name it. */
  readonly label: string;
}

/**
 * The workload a container policy checks; declares the policy not applicable (which throws) to a
 * resource without a pod spec, or with `longRunningOnly` to one that runs to completion.
 */
export function workloadOf(
  args: ResourceValidationArgs,
  options: { readonly longRunningOnly?: boolean } = {},
): Workload {
  const pod = podSpecOf(args.type, args.props);
  if (options.longRunningOnly && (!pod || !LONG_RUNNING_TYPES.has(args.type)))
    return args.notApplicable("not a long-running workload");
  if (!pod) return args.notApplicable("not a workload");
  const meta = metadataOf(args.props, args.name);
  return { pod, meta, label: describeObject(args.type, meta) };
}

/** What `check` finds wrong with each container (none: `undefined`), in container order. */
export function containerProblems(
  pod: Props,
  check: (c: ContainerRef) => string | undefined,
  options: { readonly initToo?: boolean } = {},
): string[] {
  return containersOf(pod, options)
    .map(check)
    .filter((p): p is string => p !== undefined);
}

/** One violation for the workload: `<label>: <problems>; <fix>`, when there is a problem. */
export function reportProblems(
  reportViolation: (message: string) => void,
  w: Workload,
  problems: readonly string[],
  fix: string,
): void {
  if (problems.length > 0) reportViolation(`${w.label}: ${problems.join("; ")}; ${fix}`);
}

/** A namespace IsolatedEnvironment created: it carries the `test-tiers/environment` label. */
export function isEnvironmentNamespace(type: string, props: Props): boolean {
  return (
    type === NAMESPACE_TYPE && stringMap(get(props, ["metadata", "labels"]))[LABELS.environment] !== undefined
  );
}

/** The environment namespaces of a stack, by namespace name. */
export function environmentNamespaces<R extends { type: string; name: string; props: Props }>(
  resources: readonly R[],
): Map<string, R> {
  const out = new Map<string, R>();
  for (const r of resources) {
    if (isEnvironmentNamespace(r.type, r.props)) out.set(metadataOf(r.props, r.name).name, r);
  }
  return out;
}

/**
 * Whether an object is exempt from the hardening policies: it lives in an exempt namespace and is
 * not an environment's (an object labelled with an environment is never exempt).
 */
export function isExempt(meta: Metadata, config: ExemptConfig): boolean {
  return config.exemptNamespaces.includes(meta.namespace) && meta.labels[LABELS.environment] === undefined;
}
