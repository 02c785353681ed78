import { describeValue, type IssueCollector } from "../../tiers/config/issues.js";
import { validateSource, valueAt } from "../../tiers/config/validate.js";
import type { YamlSource } from "../../tiers/config/yaml-source.js";
import { stackIssue } from "./issue.js";
import {
  CLUSTER_MODES,
  CONFIG_NAMESPACE,
  EksClusterSpec,
  key,
  KubeconfigClusterSpec,
  StackConfigSpec,
} from "./schema.js";

/** The stack config after its schema: the `test-tiers:` keys, and the cluster block checked for its mode. */
export interface StackSettings {
  readonly config: StackConfigSpec;
  readonly cluster: EksClusterSpec | KubeconfigClusterSpec;
}

/**
 * Checks every key of the config mapping: namespaces, the `test-tiers:` schema (unknown keys,
 * types, ranges, pinned images, CIDRs) and the cluster block against its mode's schema. Every
 * problem is added to `issues`; settings are returned only when there was none.
 */
export function validateStackSettings(source: YamlSource, issues: IssueCollector): StackSettings | undefined {
  const data = source.data;
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    issues.add(
      stackIssue(source, [], {
        message: "the stack file has no config mapping",
        expected: "config: { test-tiers:tier: … }",
      }),
    );
    return undefined;
  }
  const ours: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) {
    const ns = k.includes(":") ? k.slice(0, k.indexOf(":")) : "";
    if (ns === CONFIG_NAMESPACE) ours[k] = v;
    else if (ns !== "pulumi") {
      issues.add(
        stackIssue(
          source,
          [k],
          {
            message:
              ns === ""
                ? "a config key needs a namespace"
                : `config of namespace ${ns} is not read: every provider of this program is explicit`,
            got: JSON.stringify(k),
            expected: `a ${CONFIG_NAMESPACE}: key (${Object.keys(StackConfigSpec.shape).join(", ")}) or a pulumi: key`,
          },
          { key: true },
        ),
      );
    }
  }
  const view: YamlSource = { ...source, data: ours };
  const before = issues.issues.length;
  const r = validateSource(StackConfigSpec, view);
  issues.addAll(r.issues);
  const cluster = validateCluster(view, issues);
  if (issues.issues.length > before || !r.value || !cluster) return undefined;
  return { config: r.value, cluster };
}

function validateCluster(view: YamlSource, issues: IssueCollector): StackSettings["cluster"] | undefined {
  const path = [key("cluster")];
  const block = valueAt(view.data, path);
  if (block === undefined) return { mode: "eks" };
  if (block === null || typeof block !== "object" || Array.isArray(block)) {
    issues.add(
      stackIssue(view, path, { message: "wrong type", got: describeValue(block), expected: "a mapping" }),
    );
    return undefined;
  }
  const mode = (block as Record<string, unknown>).mode;
  if (mode === undefined) {
    issues.add(
      stackIssue(view, path, { message: "needs a mode", expected: `mode: ${CLUSTER_MODES.join(" or ")}` }),
    );
    return undefined;
  }
  if (mode !== "eks" && mode !== "kubeconfig") {
    issues.add(
      stackIssue(view, [...path, "mode"], {
        message: "not an allowed value",
        got: describeValue(mode),
        expected: `one of ${CLUSTER_MODES.join(", ")}`,
      }),
    );
    return undefined;
  }
  const r =
    mode === "eks"
      ? validateSource(EksClusterSpec, view, path)
      : validateSource(KubeconfigClusterSpec, view, path);
  issues.addAll(r.issues);
  return r.value;
}
