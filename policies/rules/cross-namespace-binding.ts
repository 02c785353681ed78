import type { StackValidationPolicy } from "@pulumi/policy";
import { describeObject, environmentNamespaces, metadataOf } from "../lib/kubernetes.js";
import { joinAnd, list, record, str } from "../lib/props.js";

export const ROLE_BINDING_TYPE = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding";
export const CLUSTER_ROLE_BINDING_TYPE = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding";

/** Groups that hold the service accounts of every namespace (or everyone). */
const EVERYONE = ["system:serviceaccounts", "system:authenticated", "system:unauthenticated"];
const SA_GROUP = "system:serviceaccounts:";

interface Subject {
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
}

function subjectsOf(props: Record<string, unknown>): Subject[] {
  return list(props.subjects).map((s) => {
    const r = record(s) ?? {};
    const namespace = str(r.namespace);
    return { kind: str(r.kind) ?? "?", name: str(r.name) ?? "?", ...(namespace ? { namespace } : {}) };
  });
}

/** Why a RoleBinding in `namespace` reaches past it through `s`, or `undefined`. */
function crossesFrom(namespace: string, s: Subject): string | undefined {
  if (s.kind === "ServiceAccount") {
    const ns = s.namespace ?? namespace;
    return ns !== namespace ? `ServiceAccount ${ns}/${s.name} of another namespace` : undefined;
  }
  if (s.kind === "Group") {
    if (EVERYONE.includes(s.name)) return `Group ${s.name}, which spans every namespace`;
    if (s.name.startsWith(SA_GROUP) && s.name.slice(SA_GROUP.length) !== namespace)
      return `Group ${s.name} of another namespace`;
  }
  return undefined;
}

export const crossNamespaceBinding: StackValidationPolicy = {
  name: "cross-namespace-binding",
  description:
    "No binding reaches across namespaces: a RoleBinding binds only its own namespace's service accounts, and no ClusterRoleBinding grants an environment's service accounts rights beyond their namespace.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const bindings = args.resources.filter(
      (r) => r.type === ROLE_BINDING_TYPE || r.type === CLUSTER_ROLE_BINDING_TYPE,
    );
    if (bindings.length === 0)
      return args.notApplicable("the stack has no RoleBinding or ClusterRoleBinding");
    const envs = environmentNamespaces(args.resources);
    for (const r of bindings) {
      const meta = metadataOf(r.props, r.name);
      const subjects = subjectsOf(r.props);
      if (r.type === ROLE_BINDING_TYPE) {
        const crossing = subjects.map((s) => crossesFrom(meta.namespace, s)).filter((x) => x !== undefined);
        if (crossing.length > 0) {
          reportViolation(
            `${describeObject(r.type, meta)} binds ${joinAnd(crossing)}; bind only subjects of ${meta.namespace}`,
            r.urn,
          );
        }
        continue;
      }
      const reached = subjects.filter(
        (s) =>
          (s.kind === "ServiceAccount" && s.namespace !== undefined && envs.has(s.namespace)) ||
          (s.kind === "Group" &&
            (EVERYONE.includes(s.name) ||
              (s.name.startsWith(SA_GROUP) && envs.has(s.name.slice(SA_GROUP.length))))),
      );
      if (envs.size > 0 && reached.length > 0) {
        const names = reached.map((s) =>
          s.kind === "ServiceAccount" ? `ServiceAccount ${s.namespace!}/${s.name}` : `Group ${s.name}`,
        );
        reportViolation(
          `${describeObject(r.type, meta, false)} grants ${joinAnd(names)} (an environment's service accounts) rights in every namespace; use a RoleBinding in the environment's namespace`,
          r.urn,
        );
      }
    }
  },
};
