/**
 * The CrossGuard entry (`pulumi preview --policy-pack policies`). The only module that constructs
 * the PolicyPack: its constructor starts the analyzer's gRPC server and prints its port for the
 * engine, so tests and `tiers policy check` import `policies.ts` instead.
 */
import { PolicyPack } from "@pulumi/policy";
import { POLICIES, POLICY_PACK_NAME } from "./policies.js";

new PolicyPack(POLICY_PACK_NAME, {
  description:
    "test-tiers: isolated environments, workload hygiene, private and encrypted data, the tier catalog's cost caps, lifecycle tags and EKS hardening.",
  policies: [...POLICIES],
});
