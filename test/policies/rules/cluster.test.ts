/** Cluster: EKS control-plane logging, public endpoint only behind a CIDR allow-list. */
import { describe, expect, it } from "vitest";
import { eksControlPlaneLogging } from "../../../policies/rules/eks-control-plane-logging.js";
import { eksPublicEndpoint } from "../../../policies/rules/eks-public-endpoint.js";
import { fake, messages, validateResource } from "../fake-args.js";

const cluster = (props: Record<string, unknown>) =>
  fake("aws:eks/cluster:Cluster", "us-east-1-cluster", { roleArn: "arn", ...props });
const ALL_LOGS = ["api", "audit", "authenticator", "controllerManager", "scheduler"];

describe("eks-control-plane-logging", () => {
  it("passes every log type, and the required three", async () => {
    expect(
      await messages(validateResource(eksControlPlaneLogging, cluster({ enabledClusterLogTypes: ALL_LOGS }))),
    ).toStrictEqual([]);
    expect(
      await messages(
        validateResource(
          eksControlPlaneLogging,
          cluster({ enabledClusterLogTypes: ["audit", "api", "authenticator"] }),
        ),
      ),
    ).toStrictEqual([]);
  });

  it.each<[string, Record<string, unknown>, string]>([
    [
      "no logging",
      {},
      "cluster us-east-1-cluster does not log api, audit and authenticator; add them to enabledClusterLogTypes (stack config test-tiers:cluster.logTypes)",
    ],
    [
      "api only",
      { enabledClusterLogTypes: ["api"] },
      "cluster us-east-1-cluster does not log audit and authenticator; add them to enabledClusterLogTypes (stack config test-tiers:cluster.logTypes)",
    ],
  ])("reports %s", async (_name, props, message) => {
    expect(await messages(validateResource(eksControlPlaneLogging, cluster(props)))).toStrictEqual([message]);
  });

  it("takes the required types from its config", async () => {
    const config = { "eks-control-plane-logging": { requiredLogTypes: ALL_LOGS } };
    expect(
      await messages(
        validateResource(
          eksControlPlaneLogging,
          cluster({ enabledClusterLogTypes: ["api", "audit", "authenticator"] }),
          { config },
        ),
      ),
    ).toStrictEqual([
      "cluster us-east-1-cluster does not log controllerManager and scheduler; add them to enabledClusterLogTypes (stack config test-tiers:cluster.logTypes)",
    ]);
  });

  it("does not apply to other resources", async () => {
    expect(
      await validateResource(eksControlPlaneLogging, fake("aws:eks/nodeGroup:NodeGroup", "n", {})),
    ).toStrictEqual({ violations: [], notApplicable: "not an EKS cluster" });
  });
});

describe("eks-public-endpoint", () => {
  it.each<[string, Record<string, unknown>]>([
    ["a private endpoint", { endpointPrivateAccess: true, endpointPublicAccess: false }],
    [
      "a public endpoint behind an allow-list",
      { endpointPublicAccess: true, publicAccessCidrs: ["203.0.113.0/24", "198.51.100.7/32"] },
    ],
    [
      "the allow-list in the older list form of vpcConfig",
      [{ endpointPublicAccess: true, publicAccessCidrs: ["203.0.113.0/24"] }],
    ],
  ] as [string, Record<string, unknown>][])("passes %s", async (_name, vpcConfig) => {
    expect(await messages(validateResource(eksPublicEndpoint, cluster({ vpcConfig })))).toStrictEqual([]);
  });

  it.each<[string, Record<string, unknown>, string]>([
    [
      "public by default, without CIDRs",
      { subnetIds: ["subnet-1"] },
      "cluster us-east-1-cluster has a public API endpoint open to every address (no publicAccessCidrs); list the networks that may reach it in publicAccessCidrs (stack config test-tiers:cluster.publicAccessCidrs) or set endpointPublicAccess: false",
    ],
    [
      "open to the world next to an office range",
      { endpointPublicAccess: true, publicAccessCidrs: ["203.0.113.0/24", "0.0.0.0/0", "::/0"] },
      "cluster us-east-1-cluster has a public API endpoint open to 0.0.0.0/0 and ::/0; list the networks that may reach it in publicAccessCidrs (stack config test-tiers:cluster.publicAccessCidrs) or set endpointPublicAccess: false",
    ],
  ])("reports %s", async (_name, vpcConfig, message) => {
    expect(await messages(validateResource(eksPublicEndpoint, cluster({ vpcConfig })))).toStrictEqual([
      message,
    ]);
  });
});
