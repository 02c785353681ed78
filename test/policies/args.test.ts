/** The fake (and offline) policy arguments behave like the ones `@pulumi/policy`'s server builds. */
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { describe, expect, it } from "vitest";
import {
  frozenMap,
  policyResources,
  resourceValidationArgs,
  stackValidationArgs,
  PolicyNotApplicable,
} from "../../runners/policy/args.js";
import { configFor } from "../../runners/policy/check.js";
import { awsProvider, fake, using, validateResource, validateStack } from "./fake-args.js";

const ctx = { config: {}, stackTags: new Map<string, string>() };

describe("resource arguments", () => {
  const bucket = fake("aws:s3/bucket:Bucket", "b", { bucketPrefix: "x-" });
  const args = resourceValidationArgs(bucket, ctx);

  it("isType and asType match the generated class's type token only", () => {
    expect(args.isType(aws.s3.Bucket)).toBe(true);
    expect(args.isType(aws.s3.BucketV2)).toBe(false);
    expect(args.isType(k8s.core.v1.Namespace)).toBe(false);
    expect(args.asType(aws.s3.Bucket)).toStrictEqual({ bucketPrefix: "x-" });
    expect(args.asType(aws.s3.BucketPolicy)).toBeUndefined();
  });

  it("carries type, name, URN, props, default options and the provider as the engine does", () => {
    const p = awsProvider("aws-us-east-1", "us-east-1", { a: "b" });
    const a = resourceValidationArgs({ ...using(bucket, p), parent: "urn:parent" }, ctx);
    expect({ type: a.type, name: a.name, urn: a.urn, props: a.props, opts: a.opts }).toStrictEqual({
      type: "aws:s3/bucket:Bucket",
      name: "b",
      urn: "urn:pulumi:base::test-tiers::aws:s3/bucket:Bucket::b",
      props: { bucketPrefix: "x-" },
      opts: {
        protect: false,
        ignoreChanges: [],
        aliases: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: [],
        parent: "urn:parent",
      },
    });
    expect(a.provider).toStrictEqual({
      type: "pulumi:providers:aws",
      name: "aws-us-east-1",
      urn: "urn:pulumi:base::test-tiers::pulumi:providers:aws::aws-us-east-1",
      props: { region: "us-east-1", defaultTags: '{"tags":{"a":"b"}}' },
    });
  });

  it("notApplicable throws, with the reason", () => {
    expect(() => args.notApplicable("not mine")).toThrow(new PolicyNotApplicable("not mine"));
  });

  it("stackTags offer the read methods only", () => {
    const tags = stackValidationArgs([], {
      config: {},
      stackTags: frozenMap({ "pulumi:project": "test-tiers" }),
    }).stackTags;
    expect(tags.get("pulumi:project")).toBe("test-tiers");
    expect([...tags]).toStrictEqual([["pulumi:project", "test-tiers"]]);
    expect("set" in tags).toBe(false);
    expect(Object.isFrozen(tags)).toBe(true);
  });
});

describe("getConfig", () => {
  const policy: ResourceValidationPolicy = {
    name: "p",
    description: "d",
    configSchema: { properties: { list: { type: "array", default: ["a"] }, n: { type: "integer" } } },
    validateResource: () => {},
  };

  it("fills in the schema's defaults, lets config override them, and leaves enforcementLevel out", () => {
    expect(configFor(policy)).toStrictEqual({ list: ["a"] });
    expect(configFor(policy, { p: { n: 3, enforcementLevel: "advisory" } })).toStrictEqual({
      list: ["a"],
      n: 3,
    });
    expect(configFor(policy, { p: { list: [] } })).toStrictEqual({ list: [] });
  });

  it("is {} for a policy without config", () => {
    expect(configFor({ name: "q", description: "d", validateResource: () => {} })).toStrictEqual({});
  });

  it("hands each call its own copy", () => {
    const a = resourceValidationArgs(fake("x:y:Z", "z", {}), {
      config: configFor(policy),
      stackTags: new Map(),
    });
    a.getConfig<{ list: string[] }>().list.push("mutated");
    expect(a.getConfig()).toStrictEqual({ list: ["a"] });
  });
});

describe("stack arguments", () => {
  it("resolve parent, dependencies and propertyDependencies to the resource objects", () => {
    const parent = fake("tiers:storage:BundleStore", "store", {});
    const bucket = fake("aws:s3/bucket:Bucket", "b", {}, { parent: parent.urn });
    const block = fake(
      "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
      "b",
      { bucket: "id" },
      {
        parent: parent.urn,
        dependencies: [bucket.urn, "urn:not-in-the-stack"],
        propertyDependencies: { bucket: [bucket.urn] },
      },
    );
    const [p, b, k] = policyResources([parent, bucket, block]);
    expect(b!.parent).toBe(p);
    expect(k!.dependencies).toStrictEqual([b]);
    expect(k!.propertyDependencies).toStrictEqual({ bucket: [b] });
    expect(k!.asType(aws.s3.BucketPublicAccessBlock)).toStrictEqual({ bucket: "id" });
    expect(k!.isType(aws.s3.Bucket)).toBe(false);
  });
});

describe("the helper's outcomes", () => {
  it("collect violations with the URN a stack policy names, and notApplicable with its reason", async () => {
    const stackPolicy: StackValidationPolicy = {
      name: "s",
      description: "d",
      validateStack: (args, report) => {
        report("whole stack");
        report("one resource", args.resources[0]!.urn);
        args.notApplicable("after all");
      },
    };
    expect(await validateStack(stackPolicy, [fake("x:y:Z", "z", {})])).toStrictEqual({
      violations: [
        { message: "whole stack" },
        { message: "one resource", urn: "urn:pulumi:base::test-tiers::x:y:Z::z" },
      ],
      notApplicable: "after all",
    });
  });

  it("ignore the URN a resource policy passes, as the engine does", async () => {
    const resourcePolicy: ResourceValidationPolicy = {
      name: "r",
      description: "d",
      validateResource: [(_a, report) => report("first", "urn:other"), (_a, report) => report("second")],
    };
    expect(await validateResource(resourcePolicy, fake("x:y:Z", "z", {}))).toStrictEqual({
      violations: [{ message: "first" }, { message: "second" }],
    });
  });
});
