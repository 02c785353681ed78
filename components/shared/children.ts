import type * as pulumi from "@pulumi/pulumi";

/**
 * The one way a component creates children: every child is named under the component (logical
 * names must be unique per type across the stack, so `us-east-1-vpc`, not `vpc`) and gets
 * `{ parent, provider }`, both always set (pulumi-awsx REVIEW.md: providers flow everywhere).
 */
export interface Children {
  /** `<component name>-<suffix>` */
  name(suffix: string): string;
  /** Options for a child resource: the component as parent, `provider` as provider, plus `extra`. */
  opts(extra?: ChildExtras): pulumi.CustomResourceOptions;
  /** The same with another provider (a component whose children span packages, e.g. k8s and tls). */
  optsWith(provider: pulumi.ProviderResource, extra?: ChildExtras): pulumi.CustomResourceOptions;
  /** Options for an invoke: the same parent and provider. */
  invokeOpts(): pulumi.InvokeOutputOptions;
}

export type ChildExtras = Omit<pulumi.CustomResourceOptions, "parent" | "provider" | "providers">;

export function childrenOf(
  parent: pulumi.Resource,
  name: string,
  provider: pulumi.ProviderResource,
): Children {
  return {
    name: (suffix) => `${name}-${suffix}`,
    opts: (extra = {}) => ({ ...extra, parent, provider }),
    optsWith: (other, extra = {}) => ({ ...extra, parent, provider: other }),
    invokeOpts: () => ({ parent, provider }),
  };
}
