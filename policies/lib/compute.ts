/** The compute a stack pays for: managed node groups at their ceiling, and EC2 instances. */
import type { PolicyResource } from "@pulumi/policy";
import { TAGS } from "../../tiers/infra/identity.js";
import { effectiveTags } from "./aws.js";
import { get, list, str } from "./props.js";

export const NODE_GROUP_TYPE = "aws:eks/nodeGroup:NodeGroup";
export const EC2_INSTANCE_TYPE = "aws:ec2/instance:Instance";

export interface ComputeUnit {
  readonly resource: PolicyResource;
  /** The `test-tiers:tier` tag it carries (its own or its provider's default). */
  readonly tier?: string;
  readonly instanceTypes: readonly string[];
  /** Nodes at most: a node group's maxSize, 1 for an instance. */
  readonly maxCount: number;
  /** `node group us-east-1-nodes`, `instance bastion`. */
  readonly label: string;
}

export function computeUnits(resources: readonly PolicyResource[]): ComputeUnit[] {
  const units: ComputeUnit[] = [];
  for (const r of resources) {
    let unit: Omit<ComputeUnit, "tier" | "resource"> | undefined;
    if (r.type === NODE_GROUP_TYPE) {
      const max = get(r.props, ["scalingConfig", "maxSize"]);
      unit = {
        instanceTypes: list(r.props.instanceTypes).filter((t): t is string => typeof t === "string"),
        maxCount: typeof max === "number" ? max : 0,
        label: `node group ${r.name}`,
      };
    } else if (r.type === EC2_INSTANCE_TYPE) {
      const type = str(r.props.instanceType);
      unit = { instanceTypes: type ? [type] : [], maxCount: 1, label: `instance ${r.name}` };
    }
    if (!unit) continue;
    const tier = effectiveTags(r.props, r.provider)[TAGS.tier];
    units.push({ ...unit, resource: r, ...(tier !== undefined ? { tier } : {}) });
  }
  return units;
}
