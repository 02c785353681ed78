import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { CHAOS_KINDS, CHAOS_MESH_GROUP, CHAOS_VERBS } from "../../tiers/infra/chaos-mesh.js";
import type { Children } from "../shared/children.js";
import type { ObjectMeta } from "./guardrails.js";

/** The Role's one rule: the five Chaos Mesh kinds the injectors create, in this namespace only. */
export function chaosRoleRules(): k8s.types.input.rbac.v1.PolicyRule[] {
  return [
    {
      apiGroups: [CHAOS_MESH_GROUP],
      resources: Object.values(CHAOS_KINDS),
      verbs: [...CHAOS_VERBS],
    },
  ];
}

/**
 * What lets the orchestrator inject the chaos phase's faults through Chaos Mesh: a Role in the
 * environment's namespace allowing exactly the kinds its injectors create (nothing else of
 * chaos-mesh.org, no Schedule or Workflow, no other namespace), bound to its service account and
 * to the ServiceAccount the environment's workflow pods run as (`workflowServiceAccount`), whose
 * `run-faults` step runs the same injectors (tiers/workflow/argo.ts; only that step's pod mounts
 * the token).
 */
export function createChaosAccess(
  c: Children,
  meta: ObjectMeta,
  serviceAccount: pulumi.Output<string>,
  workflowServiceAccount?: string,
): { role: k8s.rbac.v1.Role; binding: k8s.rbac.v1.RoleBinding } {
  const role = new k8s.rbac.v1.Role(
    c.name("chaos-injector"),
    { metadata: meta("chaos-injector", "orchestrator"), rules: chaosRoleRules() },
    c.opts(),
  );
  const binding = new k8s.rbac.v1.RoleBinding(
    c.name("chaos-injector"),
    {
      metadata: meta("chaos-injector", "orchestrator"),
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
      subjects: [
        { kind: "ServiceAccount", name: serviceAccount, namespace: meta("chaos-injector").namespace },
        ...(workflowServiceAccount !== undefined
          ? [
              {
                kind: "ServiceAccount",
                name: workflowServiceAccount,
                namespace: meta("chaos-injector").namespace,
              },
            ]
          : []),
      ],
    },
    c.opts(),
  );
  return { role, binding };
}
