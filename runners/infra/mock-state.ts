import { createHash } from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";

/** The account id every mocked ARN carries. */
export const MOCK_ACCOUNT = "123456789012";
/** Values the mocks mint for secret outputs start with this, so a test can find one that leaked into plain text. */
export const MOCK_SECRET_PREFIX = "MOCK-SECRET-";

const short = (s: string): string => createHash("sha256").update(s).digest("hex").slice(0, 12);

/** Zones the mock's `getAvailabilityZones` reports (us-east-1 has six, the others three). */
export function mockZones(region: string): string[] {
  const letters = region === "us-east-1" ? "abcdef" : "abc";
  return [...letters].map((l) => `${region}${l}`);
}

/**
 * The outputs a provider would compute for a resource (ids, ARNs, endpoints, generated secrets),
 * shaped like the real provider's, merged over its inputs. `region` is its provider's region.
 */
export function mockState(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
  region: string,
): { id: string; state: Record<string, unknown> } {
  const id = `${name}-${short(type + name)}`;
  const arn = (service: string, resource: string, r: string = region): string =>
    `arn:aws:${service}:${r}:${MOCK_ACCOUNT}:${resource}`;
  const extra: Record<string, unknown> = {};
  switch (type) {
    case "aws:eks/cluster:Cluster": {
      const clusterName = (inputs.name as string | undefined) ?? name;
      Object.assign(extra, {
        name: clusterName,
        arn: arn("eks", `cluster/${clusterName}`),
        endpoint: `https://${short(clusterName).toUpperCase()}.gr7.${region}.eks.amazonaws.com`,
        certificateAuthority: { data: Buffer.from(`mock CA of ${clusterName}`).toString("base64") },
        identities: [
          {
            oidcs: [
              { issuer: `https://oidc.eks.${region}.amazonaws.com/id/${short(clusterName).toUpperCase()}` },
            ],
          },
        ],
      });
      break;
    }
    case "aws:iam/role:Role":
      Object.assign(extra, { name: id, arn: `arn:aws:iam::${MOCK_ACCOUNT}:role/${id}` });
      break;
    case "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
      Object.assign(extra, {
        arn: `arn:aws:iam::${MOCK_ACCOUNT}:oidc-provider/${String(inputs.url).replace(/^https:\/\//, "")}`,
      });
      break;
    case "aws:s3/bucket:Bucket": {
      const bucket =
        (inputs.bucket as string | undefined) ??
        `${typeof inputs.bucketPrefix === "string" ? inputs.bucketPrefix : name}${short(name)}`;
      Object.assign(extra, { bucket, arn: `arn:aws:s3:::${bucket}` });
      return { id: bucket, state: { ...inputs, ...extra } };
    }
    case "aws:ec2/launchTemplate:LaunchTemplate":
      Object.assign(extra, { latestVersion: 1, arn: arn("ec2", `launch-template/${id}`) });
      break;
    case "aws:cloudwatch/logGroup:LogGroup": {
      const groupName = (inputs.name as string | undefined) ?? id;
      Object.assign(extra, { name: groupName, arn: arn("logs", `log-group:${groupName}`) });
      break;
    }
    case "aws:rds/instance:Instance": {
      const identifier = `${typeof inputs.identifierPrefix === "string" ? inputs.identifierPrefix : name}${short(name)}`;
      Object.assign(extra, {
        identifier,
        arn: arn("rds", `db:${identifier}`),
        address: `${identifier}.${short(identifier)}.${region}.rds.amazonaws.com`,
        port: 5432,
        endpoint: `${identifier}.${short(identifier)}.${region}.rds.amazonaws.com:5432`,
        // manageMasterUserPassword: RDS makes the secret in Secrets Manager and reports its ARN.
        masterUserSecrets:
          inputs.manageMasterUserPassword === true
            ? [
                {
                  secretArn: arn("secretsmanager", `secret:rds!db-${short(identifier)}`),
                  secretStatus: "active",
                },
              ]
            : [],
      });
      break;
    }
    case "aws:rds/subnetGroup:SubnetGroup":
      Object.assign(extra, { name: id, arn: arn("rds", `subgrp:${id}`) });
      break;
    case "aws:sqs/queue:Queue":
      Object.assign(extra, {
        name: id,
        url: `https://sqs.${region}.amazonaws.com/${MOCK_ACCOUNT}/${id}`,
      });
      extra.arn = `arn:aws:sqs:${region}:${MOCK_ACCOUNT}:${id}`;
      break;
    case "aws:ecs/cluster:Cluster":
    case "aws:ecs/service:Service":
      Object.assign(extra, {
        name: id,
        arn: arn("ecs", `${type.includes("cluster") ? "cluster" : "service"}/${id}`),
      });
      break;
    case "aws:secretsmanager/secret:Secret":
      Object.assign(extra, { arn: arn("secretsmanager", `secret:${id}`) });
      break;
    case "random:index/randomPassword:RandomPassword":
      Object.assign(extra, {
        result: `${MOCK_SECRET_PREFIX}${name}`,
        bcryptHash: `${MOCK_SECRET_PREFIX}bcrypt-${name}`,
      });
      break;
    case "tls:index/privateKey:PrivateKey":
      Object.assign(extra, {
        privateKeyPem: `-----BEGIN PRIVATE KEY-----\n${MOCK_SECRET_PREFIX}${name}\n-----END PRIVATE KEY-----\n`,
        privateKeyOpenssh: `${MOCK_SECRET_PREFIX}openssh-${name}`,
        privateKeyPemPkcs8: `${MOCK_SECRET_PREFIX}pkcs8-${name}`,
        publicKeyPem: `-----BEGIN PUBLIC KEY-----\nMOCK-PUBLIC-${name}\n-----END PUBLIC KEY-----\n`,
        publicKeyOpenssh: `ssh-ed25519 MOCK-PUBLIC-${name}`,
      });
      break;
    default:
      if (type.startsWith("kubernetes:") && !type.startsWith("kubernetes:index")) {
        const metadata = (inputs.metadata as Record<string, unknown> | undefined) ?? {};
        extra.metadata = {
          ...metadata,
          name: metadata.name ?? `${name}-${short(name).slice(0, 8)}`,
          uid: short(`uid${type}${name}`),
        };
        // A LoadBalancer Service gets the hostname its cloud controller would write into status.
        const spec = inputs.spec as { type?: unknown } | undefined;
        if (type === "kubernetes:core/v1:Service" && spec?.type === "LoadBalancer") {
          extra.status = {
            loadBalancer: { ingress: [{ hostname: `${short(name)}.elb.mock.amazonaws.com` }] },
          };
        }
      } else if (type.startsWith("aws:")) {
        const [, mod = "x", kind = "x"] = /^aws:([^/]+)\/([^:]+):/.exec(type) ?? [];
        extra.arn = arn(mod, `${kind}/${id}`);
      }
  }
  return { id, state: { ...inputs, ...extra } };
}

/**
 * Answers the invokes the program makes, shaped like the provider's results. Strict: any other
 * invoke throws, naming it, so a new data source cannot silently get an empty answer.
 */
export function mockInvoke(args: pulumi.runtime.MockCallArgs, region: string): Record<string, unknown> {
  const inputs = args.inputs as Record<string, unknown>;
  switch (args.token) {
    case "aws:index/getAvailabilityZones:getAvailabilityZones": {
      const names = mockZones(region);
      return {
        id: region,
        names,
        zoneIds: names.map((n, i) => `${n.slice(0, 3)}${i + 1}-az${i + 1}`),
        state: "available",
        groupNames: [region],
      };
    }
    case "aws:ec2/getVpc:getVpc":
      return {
        id: inputs.id,
        cidrBlock: "10.99.0.0/16",
        arn: `arn:aws:ec2:${region}:${MOCK_ACCOUNT}:vpc/${String(inputs.id)}`,
        state: "available",
      };
    case "aws:ec2/getSubnets:getSubnets":
      return {
        id: region,
        ids: ["subnet-0aaa0000000000003", "subnet-0aaa0000000000001", "subnet-0aaa0000000000002"],
        filters: inputs.filters,
      };
    default: {
      const message = `unmocked invoke ${args.token}: the offline harness answers only the invokes it knows (runners/infra/mock-state.ts)`;
      // The SDK rethrows a failed invoke as `new Error(err.details)`, as it would a gRPC error.
      throw Object.assign(new Error(message), { details: message });
    }
  }
}
