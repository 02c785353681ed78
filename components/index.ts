/**
 * components/: Pulumi ComponentResources, one per concern. Each is a thin class over an exported
 * `create<Name>(name, args, parent, provider)` core; every child gets `{ parent, provider }`.
 */
export * from "./shared/children.js";
export * from "./shared/labels.js";
export * from "./network/cidr.js";
export * from "./network/subnets.js";
export * from "./network/flow-logs.js";
export * from "./network/region-network.js";
export * from "./cluster/iam-documents.js";
export * from "./cluster/kubeconfig.js";
export * from "./cluster/eks-cluster.js";
export * from "./cluster/region-cluster.js";
export * from "./storage/bundle-policies.js";
export * from "./storage/bundle-store.js";
export * from "./environment/pod-security.js";
export * from "./environment/network-policies.js";
export * from "./environment/guardrails.js";
export * from "./environment/credentials.js";
export * from "./environment/workloads.js";
export * from "./environment/isolated-environment.js";
export * from "./tier/test-tier.js";
