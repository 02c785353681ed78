import type { StackValidationPolicy } from "@pulumi/policy";
import { LABELS } from "../../tiers/infra/identity.js";
import { describeObject, environmentNamespaces, metadataOf, SERVICE_TYPE } from "../lib/kubernetes.js";
import { get, str } from "../lib/props.js";

const EXPOSING = ["LoadBalancer", "NodePort"];

export const environmentNoExposure: StackValidationPolicy = {
  name: "environment-no-exposure",
  description:
    "Nothing in an environment namespace is reachable from outside the cluster: no Service of type LoadBalancer or NodePort.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const envs = environmentNamespaces(args.resources);
    if (envs.size === 0) return args.notApplicable("the stack has no environment namespace");
    for (const r of args.resources) {
      if (r.type !== SERVICE_TYPE) continue;
      const meta = metadataOf(r.props, r.name);
      const ns = envs.get(meta.namespace);
      const type = str(get(r.props, ["spec", "type"]));
      if (!ns || type === undefined || !EXPOSING.includes(type)) continue;
      const env = metadataOf(ns.props, ns.name).labels[LABELS.environment];
      reportViolation(
        `${describeObject(r.type, meta)} is of type ${type}, which exposes environment ${env} outside the cluster; use type ClusterIP (reach it with kubectl port-forward)`,
        r.urn,
      );
    }
  },
};
