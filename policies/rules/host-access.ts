import type { ResourceValidationPolicy } from "@pulumi/policy";
import { containersOf, isExempt, workloadOf } from "../lib/kubernetes.js";
import { EXEMPT_NAMESPACES_SCHEMA, type ExemptConfig } from "../lib/namespaces.js";
import { get, list, record, str } from "../lib/props.js";

export const hostAccess: ResourceValidationPolicy = {
  name: "host-access",
  description:
    "No workload reaches its node: no hostNetwork, hostPID, hostIPC, hostPath volume, hostPort or privileged container, except in the exempt platform namespaces.",
  enforcementLevel: "mandatory",
  configSchema: { properties: { exemptNamespaces: EXEMPT_NAMESPACES_SCHEMA } },
  validateResource: (args, reportViolation) => {
    const { pod, meta, label } = workloadOf(args);
    const config = args.getConfig<ExemptConfig>();
    if (isExempt(meta, config)) return;
    const found: string[] = [];
    for (const key of ["hostNetwork", "hostPID", "hostIPC"])
      if (pod[key] === true) found.push(`${key}: true`);
    for (const v of list(pod.volumes)) {
      const volume = record(v) ?? {};
      const path = str(get(volume, ["hostPath", "path"]));
      if (volume.hostPath !== undefined)
        found.push(`hostPath volume ${str(volume.name) ?? "?"} (${path ?? "?"})`);
    }
    for (const c of containersOf(pod)) {
      if (get(c.spec, ["securityContext", "privileged"]) === true) found.push(`${c.label} is privileged`);
      for (const p of list(c.spec.ports)) {
        const hostPort = get(p, ["hostPort"]);
        if (typeof hostPort === "number" || typeof hostPort === "string")
          found.push(`${c.label} binds hostPort ${hostPort}`);
      }
    }
    if (found.length === 0) return;
    const exempt = config.exemptNamespaces.length > 0 ? config.exemptNamespaces.join(" or ") : "no namespace";
    reportViolation(
      `${label}: ${found.join(", ")}; remove ${found.length === 1 ? "it" : "them"} (only workloads in ${exempt} may reach the node, never an environment's)`,
    );
  },
};
