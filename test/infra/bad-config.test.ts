/**
 * Bad stack configs, each run through the whole program under the mock runtime (one child process
 * each): every problem is reported at once, naming the stack file, line, column and key, the value
 * and what was expected — and nothing is registered.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { captureStack } from "../../runners/infra/capture.js";
import type { CapturedGraph } from "../../runners/infra/graph.js";
import { loadCatalog } from "../../tiers/catalog.js";
import { EXPIRY_EXPECTED, OWNER_EXPECTED } from "../../tiers/infra/identity.js";

const dir = mkdtempSync(join(tmpdir(), "tiers-bad-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HEAD = 'config:\n  pulumi:disable-default-providers: ["*"]\n';
const KEYS =
  "test-tiers:tier, test-tiers:cluster, test-tiers:regions, test-tiers:environments, test-tiers:network, test-tiers:images, test-tiers:sut, test-tiers:orchestrator, test-tiers:bundles, test-tiers:owner, test-tiers:expiresAt";
const PINNED = "expected a version tag (repo:1.2.3) or a digest (repo@sha256:…)";
const KNOWN_REGIONS = loadCatalog().topology.known_regions.join(", ");

/** [case, the `config:` lines after HEAD, the expected problems as `line:col key: message`] */
const CASES: [string, string, string[]][] = [
  [
    "unknown tier",
    "  test-tiers:tier: mega\n",
    [
      '3:20 test-tiers:tier: not an allowed value (got "mega", expected one of base, stress, chaos, ultimate)',
    ],
  ],
  [
    "no tier at all",
    "  test-tiers:environments: 2\n",
    ["2:3 test-tiers:tier: is required (expected one of base, stress, chaos, ultimate)"],
  ],
  [
    "unknown region",
    "  test-tiers:tier: stress\n  test-tiers:regions: [mars-1]\n",
    [`4:23 test-tiers:regions: unknown region (got "mars-1", expected one of ${KNOWN_REGIONS})`],
  ],
  [
    "two regions for a three-region tier",
    "  test-tiers:tier: ultimate\n  test-tiers:regions: [us-east-1, eu-west-1]\n",
    [
      "4:23 test-tiers:regions: tier ultimate spans 3 regions (got 2 (us-east-1, eu-west-1), expected 3 region codes)",
    ],
  ],
  [
    "zero environments",
    "  test-tiers:tier: base\n  test-tiers:environments: 0\n",
    ["4:28 test-tiers:environments: too small (got 0, expected a value >= 1)"],
  ],
  [
    "an empty environment list",
    "  test-tiers:tier: base\n  test-tiers:environments: {}\n",
    ["4:28 test-tiers:environments: lists no environment; a tier needs at least one"],
  ],
  [
    "duplicate environment ids",
    "  test-tiers:tier: base\n  test-tiers:environments:\n    env_a: {}\n    env-a: {}\n",
    [
      '6:5 test-tiers:environments.env-a: duplicate environment: env-a and env_a both become env-a (got "env-a", expected environment ids that differ by more than - and _)',
    ],
  ],
  [
    "duplicate environment names",
    "  test-tiers:tier: base\n  test-tiers:environments:\n    one: { name: shared }\n    two: { name: shared }\n",
    [
      '6:18 test-tiers:environments.two.name: duplicate environment name: one already has it (got "shared", expected a name no other environment has)',
    ],
  ],
  [
    "an environment in a region the tier does not have",
    "  test-tiers:tier: stress\n  test-tiers:environments:\n    e1: { region: eu-west-1 }\n",
    [
      '5:19 test-tiers:environments.e1.region: not a region of tier stress (got "eu-west-1", expected one of primary, secondary, tertiary, us-east-1)',
    ],
  ],
  [
    "kubeconfig mode without a kubeconfig",
    "  test-tiers:tier: base\n  test-tiers:cluster:\n    mode: kubeconfig\n    context: kind-x\n    capacity: { cpu: 6, memory: 8Gi }\n",
    ["5:5 test-tiers:cluster.kubeconfig: is required (expected a string)"],
  ],
  [
    "kubeconfig mode for a three-region tier",
    "  test-tiers:tier: ultimate\n  test-tiers:cluster: { mode: kubeconfig, kubeconfig: ~/.kube/config, capacity: { cpu: 6, memory: 8Gi } }\n",
    [
      '4:31 test-tiers:cluster.mode: kubeconfig mode deploys into one existing cluster, but tier ultimate spans 3 regions (got "kubeconfig", expected eks for a multi-region tier)',
    ],
  ],
  [
    "kubeconfig mode with neither capacity nor environment resources",
    "  test-tiers:tier: base\n  test-tiers:cluster: { mode: kubeconfig, kubeconfig: ~/.kube/config }\n  test-tiers:environments: 2\n",
    [
      "4:23 test-tiers:cluster: environment env-1 states no resources and the cluster states no capacity to share (expected resources on every environment, or test-tiers:cluster.capacity)",
      "4:23 test-tiers:cluster: environment env-2 states no resources and the cluster states no capacity to share (expected resources on every environment, or test-tiers:cluster.capacity)",
    ],
  ],
  [
    "a cluster without a mode",
    '  test-tiers:tier: base\n  test-tiers:cluster: { version: "1.34" }\n',
    ["4:23 test-tiers:cluster: needs a mode (expected mode: eks or kubeconfig)"],
  ],
  [
    "an unknown cluster mode",
    "  test-tiers:tier: base\n  test-tiers:cluster: { mode: gke }\n",
    ['4:31 test-tiers:cluster.mode: not an allowed value (got "gke", expected one of eks, kubeconfig)'],
  ],
  [
    "an image on the latest tag",
    "  test-tiers:tier: base\n  test-tiers:images:\n    sut: ghcr.io/acme/shop:latest\n",
    [
      `5:10 test-tiers:images.sut: the image uses the latest tag, which is not a pinned version (got "ghcr.io/acme/shop:latest", ${PINNED})`,
    ],
  ],
  [
    "an untagged image",
    "  test-tiers:tier: base\n  test-tiers:images:\n    orchestrator: ghcr.io/test-tiers/orchestrator\n",
    [
      `5:19 test-tiers:images.orchestrator: the image has no tag or digest, so it follows whatever is pushed last (got "ghcr.io/test-tiers/orchestrator", ${PINNED})`,
    ],
  ],
  [
    "a misspelt key",
    "  test-tiers:tier: base\n  test-tiers:enviroments: 2\n",
    [`4:3 test-tiers:enviroments: unknown key (got "test-tiers:enviroments", expected one of ${KEYS})`],
  ],
  [
    "another provider's config",
    "  test-tiers:tier: base\n  aws:region: us-east-1\n",
    [
      `4:3 aws:region: config of namespace aws is not read: every provider of this program is explicit (got "aws:region", expected a test-tiers: key (${KEYS}) or a pulumi: key)`,
    ],
  ],
  [
    "a misaligned VPC CIDR",
    "  test-tiers:tier: base\n  test-tiers:network: { vpcCidr: 10.0.0.1/16 }\n",
    [
      '4:34 test-tiers:network.vpcCidr: is not an aligned IPv4 CIDR (got "10.0.0.1/16", expected a network such as 10.0.0.0/16)',
    ],
  ],
  [
    "environments larger than the tier's node group",
    "  test-tiers:tier: stress\n  test-tiers:environments:\n    big: { resources: { cpu: 100, memory: 64Gi } }\n",
    [
      "5:5 test-tiers:environments: region us-east-1: the environments ask for 100 CPU, 64Gi memory but the region offers 57600m CPU, 222822Mi memory (expected environments that fit the 10 × m6i.2xlarge node group's share (57600m CPU, 222822Mi memory))",
    ],
  ],
  [
    "an environment too small for its workloads",
    "  test-tiers:tier: base\n  test-tiers:cluster: { mode: kubeconfig, kubeconfig: ~/.kube/config }\n  test-tiers:environments:\n    tiny: { resources: { cpu: 1, memory: 1Gi } }\n",
    [
      "6:24 test-tiers:environments.tiny.resources: environment tiny: a quota of 1 CPU, 1Gi memory leaves too little for the SUT: the orchestrator and iperf3 server take 2 CPU, 1280Mi memory and each SUT replica needs at least 200m CPU, 256Mi memory more (got 1 CPU, 1Gi memory)",
    ],
  ],
  [
    "VPC config in kubeconfig mode",
    "  test-tiers:tier: base\n  test-tiers:cluster: { mode: kubeconfig, kubeconfig: ~/.kube/config, capacity: { cpu: 6, memory: 8Gi } }\n  test-tiers:network: { vpcCidr: 10.0.0.0/16 }\n",
    [
      "5:3 test-tiers:network: has no effect in kubeconfig mode (no VPC and no bucket are created) (expected no such key, or mode eks)",
    ],
  ],
  [
    "a VPC to adopt in a region the stack does not have",
    "  test-tiers:tier: base\n  test-tiers:network:\n    existingVpcs: { eu-west-1: vpc-0123456789abcdef0 }\n",
    [
      '5:21 test-tiers:network.existingVpcs.eu-west-1: is not a region of this stack (got "eu-west-1", expected one of us-east-1)',
    ],
  ],
  [
    "an owner that cannot be a tag value and an expiry on a day that does not exist",
    '  test-tiers:tier: base\n  test-tiers:owner: "-nobody"\n  test-tiers:expiresAt: 2026-02-30T10:00:00Z\n',
    [
      `4:21 test-tiers:owner: is not an owner (got "-nobody", expected ${OWNER_EXPECTED})`,
      `5:25 test-tiers:expiresAt: is not a time (got "2026-02-30T10:00:00Z", expected ${EXPIRY_EXPECTED})`,
    ],
  ],
  [
    "several problems at once",
    '  test-tiers:tier: stress\n  test-tiers:images: { sut: "shop:latest" }\n  test-tiers:sut: { port: 80 }\n  test-tiers:bundle: { expireDays: 3 }\n',
    [
      `4:29 test-tiers:images.sut: the image uses the latest tag, which is not a pinned version (got "shop:latest", ${PINNED})`,
      "5:27 test-tiers:sut.port: too small (got 80, expected a value >= 1024)",
      `6:3 test-tiers:bundle: unknown key (got "test-tiers:bundle", expected one of ${KEYS})`,
    ],
  ],
];

/** Cases the Pulumi CLI itself would refuse before the program runs; the harness refuses them the same way. */
const FILE_CASES: [string, string, string[]][] = [
  [
    "a duplicate key",
    "  test-tiers:tier: base\n  test-tiers:tier: stress\n",
    ["4:3 (yaml): duplicate key: Map keys must be unique"],
  ],
];

const results = new Map<string, { file: string; graph: CapturedGraph }>();

beforeAll(async () => {
  const all = [...CASES, ...FILE_CASES];
  const queue = all.map(([name, body], i) => async () => {
    const file = join(dir, `Pulumi.bad-${i}.yaml`);
    writeFileSync(file, HEAD + body);
    results.set(name, { file, graph: await captureStack(`bad-${i}`, { stackFile: file }) });
  });
  // As many children at a time as there are cores: each is a whole Node process with Pulumi loaded.
  const workers = Array.from({ length: Math.max(1, availableParallelism()) }, async () => {
    for (let job = queue.shift(); job; job = queue.shift()) await job();
  });
  await Promise.all(workers);
}, 300_000);

it(`has at least 12 cases (${CASES.length + FILE_CASES.length})`, () => {
  expect(CASES.length + FILE_CASES.length).toBeGreaterThanOrEqual(12);
});

describe.each(CASES)("%s", (name, _body, expected) => {
  it("reports every problem at its key in the stack file, and the program registers nothing", () => {
    const { file, graph } = results.get(name)!;
    expect(graph.ok).toBe(false);
    expect(graph.error?.message).toBe(
      [`invalid stack configuration in ${file}`, ...expected.map((e) => `  ${file}:${e}`)].join("\n"),
    );
    expect(graph.error?.issues?.every((i) => i.file === file)).toBe(true);
    expect(graph.root, "the program ran inside its stack").toBeDefined();
    expect(graph.resources).toStrictEqual([]);
    expect(graph.invokes).toStrictEqual([]);
  });
});

describe.each(FILE_CASES)("%s", (name, _body, expected) => {
  it("is refused before the program runs", () => {
    const { file, graph } = results.get(name)!;
    expect(graph.error?.message).toBe(
      [`invalid stack configuration in ${file}`, ...expected.map((e) => `  ${file}:${e}`)].join("\n"),
    );
    expect(graph.root).toBeUndefined();
    expect(graph.resources).toStrictEqual([]);
  });
});

it("refuses a stack that has no stack file", async () => {
  const graph = await captureStack("no-such-stack");
  expect(graph.error?.message).toBe(
    "invalid stack configuration in stacks/Pulumi.no-such-stack.yaml\n  stacks/Pulumi.no-such-stack.yaml (file): stack file not found",
  );
  expect(graph.resources).toStrictEqual([]);
});
