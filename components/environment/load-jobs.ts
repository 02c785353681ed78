import * as k8s from "@pulumi/kubernetes";
import {
  LOAD_JOB_RBAC_NAME,
  LOAD_JOB_RULES,
  LOAD_WORKER_SERVICE_ACCOUNT,
} from "../../tiers/infra/load-job.js";
import type { Children } from "../shared/children.js";
import type { ObjectMeta } from "./guardrails.js";

/**
 * What lets an environment's orchestrator run its loaded phases as Indexed Jobs
 * (tiers/infra/load-job.ts): a Role in the environment's own namespace allowing only Jobs and pods
 * (LOAD_JOB_RULES: create/get/list/watch/delete Jobs, get/list pods, get pods/log), bound to the
 * orchestrator's ServiceAccount and to the one the environment's workflow pods run as
 * (`workflowServiceAccount`), whose load steps run their load as the same Jobs
 * (components/environment/workflow-options.ts; only those steps' pods mount the token); and the
 * workers' own ServiceAccount, which may do nothing. A Role, not a ClusterRole: nothing of it
 * reaches another environment's namespace.
 */
export function createLoadJobAccess(
  c: Children,
  meta: ObjectMeta,
  orchestratorServiceAccount: k8s.core.v1.ServiceAccount,
  workflowServiceAccount?: string,
): { role: k8s.rbac.v1.Role; binding: k8s.rbac.v1.RoleBinding; workerAccount: k8s.core.v1.ServiceAccount } {
  const role = new k8s.rbac.v1.Role(
    c.name("load-jobs"),
    {
      metadata: meta(LOAD_JOB_RBAC_NAME, "orchestrator"),
      rules: LOAD_JOB_RULES.map((r) => ({
        apiGroups: [...r.apiGroups],
        resources: [...r.resources],
        verbs: [...r.verbs],
      })),
    },
    c.opts(),
  );
  const m = meta(LOAD_JOB_RBAC_NAME, "orchestrator");
  const binding = new k8s.rbac.v1.RoleBinding(
    c.name("load-jobs"),
    {
      metadata: m,
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
      subjects: [
        { kind: "ServiceAccount", name: orchestratorServiceAccount.metadata.name, namespace: m.namespace },
        ...(workflowServiceAccount !== undefined
          ? [{ kind: "ServiceAccount", name: workflowServiceAccount, namespace: m.namespace }]
          : []),
      ],
    },
    c.opts(),
  );
  const workerAccount = new k8s.core.v1.ServiceAccount(
    c.name("load-worker"),
    { metadata: meta(LOAD_WORKER_SERVICE_ACCOUNT, "load-worker"), automountServiceAccountToken: false },
    c.opts(),
  );
  return { role, binding, workerAccount };
}
