/** Queries over a captured graph, for the infrastructure tests. */
import type * as k8s from "@pulumi/kubernetes";
import { get, isProviderType, type CapturedGraph, type CapturedResource } from "../../runners/infra/graph.js";

export type PodSpec = k8s.types.input.core.v1.PodSpec;
/** A container as captured: plain values, not Inputs. */
export interface PlainContainer {
  readonly name: string;
  readonly image: string;
  readonly resources?: {
    readonly requests?: Record<string, string>;
    readonly limits?: Record<string, string>;
  };
  readonly securityContext?: Record<string, unknown>;
  readonly command?: readonly string[];
  readonly args?: readonly string[];
}

export const WORKLOAD_POD_SPEC: Readonly<Record<string, string>> = {
  "kubernetes:apps/v1:Deployment": "spec.template.spec",
  "kubernetes:apps/v1:StatefulSet": "spec.template.spec",
  "kubernetes:apps/v1:DaemonSet": "spec.template.spec",
  "kubernetes:apps/v1:ReplicaSet": "spec.template.spec",
  "kubernetes:batch/v1:Job": "spec.template.spec",
  "kubernetes:batch/v1:CronJob": "spec.jobTemplate.spec.template.spec",
  "kubernetes:core/v1:Pod": "spec",
};

export class GraphView {
  readonly byUrn: ReadonlyMap<string, CapturedResource>;

  constructor(readonly graph: CapturedGraph) {
    this.byUrn = new Map(graph.resources.map((r) => [r.urn, r]));
  }

  get resources(): readonly CapturedResource[] {
    return this.graph.resources;
  }

  ofType(type: string): CapturedResource[] {
    return this.graph.resources.filter((r) => r.type === type);
  }

  /** Custom resources that are cloud or cluster objects (not providers, not components). */
  objects(): CapturedResource[] {
    return this.graph.resources.filter((r) => r.custom && !isProviderType(r.type));
  }

  ancestors(r: CapturedResource): CapturedResource[] {
    const out: CapturedResource[] = [];
    let cur = r.parent !== undefined ? this.byUrn.get(r.parent) : undefined;
    while (cur) {
      out.push(cur);
      cur = cur.parent !== undefined ? this.byUrn.get(cur.parent) : undefined;
    }
    return out;
  }

  nearest(r: CapturedResource, types: readonly string[]): CapturedResource | undefined {
    return this.ancestors(r).find((a) => types.includes(a.type));
  }

  providerOf(r: CapturedResource): CapturedResource | undefined {
    return r.provider !== undefined ? this.byUrn.get(r.provider) : undefined;
  }

  /** Provider inputs arrive JSON-encoded (non-strings); read one back. */
  providerInput(p: CapturedResource, key: string): unknown {
    const v = p.inputs[key];
    if (typeof v !== "string") return v;
    try {
      return JSON.parse(v);
    } catch {
      return v;
    }
  }

  inNamespace(namespace: string): CapturedResource[] {
    return this.graph.resources.filter((r) => get(r.inputs, "metadata.namespace") === namespace);
  }

  /** The pod spec of a workload resource, or undefined for anything else. */
  podSpec(r: CapturedResource): PodSpec | undefined {
    const path = WORKLOAD_POD_SPEC[r.type];
    return path ? (get(r.inputs, path) as PodSpec) : undefined;
  }

  workloads(): CapturedResource[] {
    return this.graph.resources.filter((r) => r.type in WORKLOAD_POD_SPEC);
  }
}

/** `k8s:apps/v1:Deployment` → `kubernetes`; `aws:ec2/vpc:Vpc` → `aws`. */
export function packageOf(type: string): string {
  return type.split(":")[0]!;
}
