/**
 * The component cores, called directly under Pulumi's mock runtime in this process (each vitest
 * file runs in a fork of its own). Mocks are installed before any component module is imported.
 */
import type * as Aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import type * as Components from "../../components/index.js";
import { installMocks, waitForRegistrations, type Recorder } from "../../runners/infra/mocks.js";

let recorder: Recorder;
let components: typeof Components;
let aws: typeof Aws;

beforeAll(async () => {
  recorder = await installMocks("test-tiers", "cores");
  components = await import("../../components/index.js");
  aws = await import("@pulumi/aws");
});

const parent = (name: string): pulumi.ComponentResource =>
  new pulumi.ComponentResource("test:index:Parent", name);
const under = (name: string) => recorder.resources.filter((r) => r.name.startsWith(`${name}-`));
const provider = (region: string, name: string) => new aws.Provider(name, { region: region as never });

describe("createRegionNetwork", () => {
  it("creates a VPC with a private and a public subnet per zone, one NAT per zone with perAz, all with the region's provider", async () => {
    const p = provider("eu-west-1", "aws-net-a");
    const out = components.createRegionNetwork(
      "net-a",
      { region: "eu-west-1", cidr: "10.5.0.0/16", availabilityZones: 2, natGateways: "perAz" },
      parent("pa"),
      p,
    );
    await new Promise((resolve) => out.privateSubnetIds.apply(resolve));
    await waitForRegistrations();
    const mine = under("net-a");
    const providerUrn = recorder.resources.find((r) => r.name === "aws-net-a")!.urn;
    expect(mine.every((r) => r.provider === providerUrn)).toBe(true);
    const subnets = mine.filter((r) => r.type === "aws:ec2/subnet:Subnet");
    expect(subnets.map((s) => [s.inputs.cidrBlock, s.inputs.availabilityZone]).sort()).toStrictEqual([
      ["10.5.0.0/19", "eu-west-1a"],
      ["10.5.224.0/24", "eu-west-1a"],
      ["10.5.225.0/24", "eu-west-1b"],
      ["10.5.32.0/19", "eu-west-1b"],
    ]);
    expect(mine.filter((r) => r.type === "aws:ec2/natGateway:NatGateway")).toHaveLength(2);
    expect(mine.find((r) => r.type === "aws:ec2/vpcEndpoint:VpcEndpoint")!.inputs.serviceName).toBe(
      "com.amazonaws.eu-west-1.s3",
    );
    expect(mine.find((r) => r.type === "aws:ec2/flowLog:FlowLog")!.inputs).toMatchObject({
      trafficType: "ALL",
      logDestinationType: "cloud-watch-logs",
    });
    expect(recorder.invokes.filter((i) => i.provider === providerUrn).map((i) => i.token)).toStrictEqual([
      "aws:index/getAvailabilityZones:getAvailabilityZones",
    ]);
  });

  it("adopts an existing VPC by id: two invokes, nothing created", async () => {
    const p = provider("us-east-1", "aws-net-b");
    const out = components.createRegionNetwork(
      "net-b",
      { region: "us-east-1", existingVpcId: "vpc-0123456789abcdef0" },
      parent("pb"),
      p,
    );
    const ids = await new Promise<string[]>((resolve) => out.privateSubnetIds.apply(resolve));
    await waitForRegistrations();
    expect(under("net-b")).toStrictEqual([]);
    expect(ids).toStrictEqual([
      "subnet-0aaa0000000000001",
      "subnet-0aaa0000000000002",
      "subnet-0aaa0000000000003",
    ]);
    const providerUrn = recorder.resources.find((r) => r.name === "aws-net-b")!.urn;
    expect(
      recorder.invokes
        .filter((i) => i.provider === providerUrn)
        .map((i) => i.token)
        .sort(),
    ).toStrictEqual(["aws:ec2/getSubnets:getSubnets", "aws:ec2/getVpc:getVpc"]);
  });
});

describe("createBundleStore", () => {
  it("makes one writer role per environment and a private, versioned, encrypted, expiring bucket", async () => {
    const p = provider("us-east-1", "aws-bs");
    const out = components.createBundleStore(
      "bs",
      {
        stack: "t",
        region: "us-east-1",
        oidcProviderArn: "arn:aws:iam::123456789012:oidc-provider/x",
        oidcIssuerUrl: "https://x",
        environments: [
          { id: "a", namespace: "tiers-a", serviceAccount: "orchestrator" },
          { id: "b", namespace: "tiers-b", serviceAccount: "orchestrator" },
        ],
        expireDays: 9,
      },
      parent("pbs"),
      p,
    );
    await new Promise((resolve) => out.bucketArn.apply(resolve));
    await waitForRegistrations();
    const mine = under("bs");
    expect(
      mine
        .filter((r) => r.type === "aws:iam/role:Role")
        .map((r) => r.name)
        .sort(),
    ).toStrictEqual(["bs-a-writer", "bs-b-writer"]);
    expect(
      mine.find((r) => r.type === "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")!.inputs,
    ).toMatchObject({
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    expect(mine.find((r) => r.type === "aws:s3/bucketVersioning:BucketVersioning")!.inputs).toMatchObject({
      versioningConfiguration: { status: "Enabled" },
    });
    expect(
      mine.find((r) => r.type === "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")!.inputs,
    ).toMatchObject({
      rules: [{ expiration: { days: 9 }, status: "Enabled" }],
    });
    expect(out.writers.a!.prefix).toBe("bundles/a/");
  });
});

describe("createRegionCluster in kubeconfig mode", () => {
  it("creates only a Kubernetes provider, its kubeconfig secret and ~ expanded", async () => {
    const out = components.createRegionCluster(
      "kc",
      { mode: "kubeconfig", kubeconfig: "~/.kube/config", context: "kind-x" },
      parent("pkc"),
      undefined,
    );
    expect(pulumi.Output.isInstance(out.kubeconfig)).toBe(true);
    await waitForRegistrations();
    const p = recorder.resources.find((r) => r.name === "kc-k8s")!;
    expect(p.type).toBe("pulumi:providers:kubernetes");
    expect(p.secretPaths).toStrictEqual(["kubeconfig"]);
    expect(p.inputs.context).toBe("kind-x");
    expect(out.ready).toStrictEqual([]);
    expect(components.expandHome("~/.kube/config", "/home/u")).toBe("/home/u/.kube/config");
    expect(components.expandHome("apiVersion: v1", "/home/u")).toBe("apiVersion: v1");
  });
});

describe("args are refused at construction, naming field, value and what is allowed", () => {
  const sizes = {
    orchestrator: {
      requests: { cpu_millis: 250, memory_bytes: 1 },
      limits: { cpu_millis: 1000, memory_bytes: 2 ** 30 },
    },
    iperf3: {
      requests: { cpu_millis: 250, memory_bytes: 1 },
      limits: { cpu_millis: 1000, memory_bytes: 2 ** 28 },
    },
    sut: {
      requests: { cpu_millis: 500, memory_bytes: 2 ** 29 },
      limits: { cpu_millis: 500, memory_bytes: 2 ** 29 },
    },
  };
  const env = {
    stack: "s",
    tier: "base",
    region: "us-east-1",
    role: "primary",
    id: "env-1",
    namespace: "tiers-env-1",
    quota: { cpu_millis: 4000, memory_bytes: 4 * 2 ** 30 },
    maxContainer: { cpu_millis: 4000, memory_bytes: 4 * 2 ** 30 },
    sizes,
    images: {
      orchestrator: "ghcr.io/test-tiers/orchestrator:0.1.0",
      sut: "ghcr.io/test-tiers/sut:0.1.0",
      adapters: "ghcr.io/test-tiers/orchestrator:0.1.0",
    },
    sut: { port: 8080, replicas: 1, healthPath: "/healthz" },
    planJson: "{}",
    tlsIssuer: "tiers-ca",
  };

  it.each([
    [
      "RegionNetwork cidr",
      () => components.validateRegionNetworkArgs("n", { region: "us-east-1", cidr: "10.0.0.0/8" }),
      'tiers:network:RegionNetwork n: args.cidr a /8 VPC is outside the supported /16 to /20 (got "10.0.0.0/8", expected an aligned /16 to /20 IPv4 CIDR)',
    ],
    [
      "RegionNetwork zones",
      () => components.validateRegionNetworkArgs("n", { region: "us-east-1", availabilityZones: 9 }),
      "tiers:network:RegionNetwork n: args.availabilityZones is out of range (got 9, expected an integer from 1 to 6)",
    ],
    [
      "RegionNetwork VPC id",
      () => components.validateRegionNetworkArgs("n", { region: "us-east-1", existingVpcId: "my-vpc" }),
      'tiers:network:RegionNetwork n: args.existingVpcId is not a VPC id (got "my-vpc", expected vpc-<8 or 17 hex digits>)',
    ],
    [
      "BundleStore expiry",
      () =>
        components.validateBundleStoreArgs("b", {
          stack: "s",
          region: "us-east-1",
          oidcProviderArn: "",
          oidcIssuerUrl: "",
          environments: [],
          expireDays: 0,
        }),
      "tiers:storage:BundleStore b: args.expireDays is out of range (got 0, expected an integer from 1 to 3650 days)",
    ],
    [
      "RegionCluster without provider",
      () => components.validateRegionClusterArgs("c", { mode: "eks" } as never, undefined),
      'tiers:cluster:RegionCluster c: args.mode needs the region\'s aws.Provider (got "eks", expected an aws.Provider for eks mode)',
    ],
    [
      "IsolatedEnvironment latest image",
      () =>
        components.validateIsolatedEnvironmentArgs("e", {
          ...env,
          images: { ...env.images, sut: "sut:latest" },
        }),
      'tiers:environment:IsolatedEnvironment e: args.images.sut uses the latest tag, which is not a pinned version (got "sut:latest", expected a version tag (repo:1.2.3) or a digest (repo@sha256:…))',
    ],
    [
      "IsolatedEnvironment quota",
      () =>
        components.validateIsolatedEnvironmentArgs("e", {
          ...env,
          quota: { cpu_millis: 2000, memory_bytes: 4 * 2 ** 30 },
        }),
      'tiers:environment:IsolatedEnvironment e: args.quota is smaller than the workloads\' limits (got {"cpu_millis":2000,"memory_bytes":4294967296}, expected at least 2500m CPU and 1792Mi)',
    ],
    [
      "IsolatedEnvironment privileged port",
      () => components.validateIsolatedEnvironmentArgs("e", { ...env, sut: { ...env.sut, port: 80 } }),
      "tiers:environment:IsolatedEnvironment e: args.sut.port is not an unprivileged port (got 80, expected an integer from 1024 to 65535 (the SUT runs as non-root))",
    ],
  ])("%s", (_, run, message) => {
    expect(run).toThrow(message);
    try {
      run();
    } catch (error) {
      expect(pulumi.RunError.isInstance(error)).toBe(true);
    }
  });
});
