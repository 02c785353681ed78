import { describe, expect, it } from "vitest";
import { planProblems, type PlanCase } from "../helpers/plan-errors.js";

/** A one-suite file `s` with the given test lines (and suite-level lines before `tests:`). */
const suite = (tests: string, suiteExtra = ""): string =>
  `test_suites:\n  s:\n    name: S\n${suiteExtra}    tests:\n${tests}`;
/** A first test named t1 with the given body lines. */
const test1 = (body: string): string => `      - name: t1\n${body}`;
const FIO = suite(test1("        tool: fio\n"));
const TOOLS = "http-load, iperf3, fio, stress-ng, elbencho, command";
const ALERTS =
  "alert:SystemOverload, alert:MemoryExhaustion, alert:CascadingFailure, alert:HighLatency, alert:ExpertPoolDegraded, alert:HighMemoryUsage, alert:GcPauseThreshold";

const cases: [string, PlanCase, string[]][] = [
  ["a missing suite file", { suitePath: "nope.yaml" }, ["nope.yaml (file): file not found"]],
  [
    "YAML that does not parse",
    { suite: "test_suites: [unclosed\n" },
    [
      "suite.yaml:2:1 (yaml): YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]",
    ],
  ],
  [
    "a duplicate key",
    { suite: "test_suites:\n  a:\n    name: A\n    tests: []\n  a:\n    name: B\n    tests: []\n" },
    ["suite.yaml:5:3 (yaml): duplicate key: Map keys must be unique"],
  ],
  ["an empty file", { suite: "" }, ["suite.yaml:1:1 (root): file is empty (expected a mapping)"]],
  [
    "a misspelt top-level key",
    { suite: "test_suite:\n  s: {}\n" },
    [
      'suite.yaml:1:1 test_suite: unknown key (got "test_suite", expected one of test_suites, contracts, environments, options)',
    ],
  ],
  [
    "tests that are not a list",
    { suite: suite("").replace("    tests:\n", "    tests: 5\n") },
    ["suite.yaml:4:12 test_suites.s.tests: wrong type (got 5, expected a list)"],
  ],
  [
    "a test without a tool",
    { suite: suite(test1("        parameters: {}\n")) },
    [`suite.yaml:5:9 test_suites.s.tests[0].tool: is required (expected one of ${TOOLS})`],
  ],
  [
    "an unknown tool",
    { suite: suite(test1("        tool: iperf4\n")) },
    [
      `suite.yaml:6:15 test_suites.s.tests[0].tool: not an allowed value (got "iperf4", expected one of ${TOOLS})`,
    ],
  ],
  [
    "an unknown contract",
    { suite: suite(test1("        tool: iperf3\n        contract: IperfContractt\n")) },
    [
      'suite.yaml:7:19 test_suites.s.tests[0].contract: unknown contract (got "IperfContractt", expected one of IperfContract, ElbenchoContract, HttpLoadContract, FioContract, StressNgContract)',
    ],
  ],
  [
    "a contract for another tool",
    { suite: suite(test1("        tool: iperf3\n        contract: FioContract\n")) },
    [
      'suite.yaml:7:19 test_suites.s.tests[0].contract: contract FioContract is for tool fio, not iperf3 (got "FioContract", expected a contract for iperf3)',
    ],
  ],
  [
    "a parameter below its range",
    { suite: suite(test1("        tool: iperf3\n        parameters: { duration: 0 }\n")) },
    [
      "suite.yaml:7:33 test_suites.s.tests[0].parameters.duration: out of range (got 0, expected a value >= 1)",
    ],
  ],
  [
    "a parameter of the wrong type",
    { suite: suite(test1("        tool: iperf3\n        parameters: { parallel_streams: four }\n")) },
    [
      'suite.yaml:7:41 test_suites.s.tests[0].parameters.parallel_streams: wrong type (got "four", expected a number)',
    ],
  ],
  [
    "a parameter that breaks its pattern",
    { suite: suite(test1("        tool: iperf3\n        parameters: { bandwidth: 1Gbit }\n")) },
    [
      'suite.yaml:7:34 test_suites.s.tests[0].parameters.bandwidth: does not match the pattern (got "1Gbit", expected a string matching /^\\d+[MGT]$/)',
    ],
  ],
  [
    "an unknown parameter",
    { suite: suite(test1("        tool: iperf3\n        parameters: { streams: 4 }\n")) },
    [
      'suite.yaml:7:32 test_suites.s.tests[0].parameters.streams: unknown parameter (got "streams", expected one of duration, parallel_streams, bandwidth, protocol, reverse, server, port)',
    ],
  ],
  [
    "a validation key naming no result",
    { suite: suite(test1("        tool: iperf3\n        validation: { min_speed: 5 }\n")) },
    [
      'suite.yaml:7:34 test_suites.s.tests[0].validation.min_speed: names no result of contract IperfContract (got "min_speed", expected min_ or max_ followed by one of bandwidth, bandwidth_sent, latency, jitter, retransmits, lost_percent, lost_packets, packets, cpu_utilization_percent, cpu_utilization_remote_percent)',
    ],
  ],
  [
    "a validation value in no unit",
    { suite: suite(test1("        tool: iperf3\n        validation: { min_bandwidth: fast }\n")) },
    [
      'suite.yaml:7:38 test_suites.s.tests[0].validation.min_bandwidth: cannot read this as bits/sec (got "fast", expected a number or a rate such as "900M")',
    ],
  ],
  [
    "a phase the tier cannot run",
    { suite: suite(test1("        tool: iperf3\n"), "    phases: [idle, extreme]\n"), cli: { tier: "base" } },
    [
      'suite.yaml:4:20 test_suites.s.phases[1]: tier base does not run phase extreme (got "extreme", expected one of idle, baseline, light)',
    ],
  ],
  [
    "a duplicate test name",
    { suite: suite(test1("        tool: iperf3\n") + "      - name: t1\n        tool: fio\n") },
    [
      'suite.yaml:7:15 test_suites.s.tests[1].name: duplicate test name in this suite (got "t1", expected a name no other test of the suite has)',
    ],
  ],
  [
    "two environment ids that become the same namespace",
    { suite: `${FIO}environments:\n  env_a: {}\n  env-a: {}\n` },
    [
      'suite.yaml:9:3 environments.env-a: duplicate environment: env-a and env_a both become env-a (got "env-a", expected environment ids that differ by more than - and _)',
    ],
  ],
  [
    "a duplicate environment name",
    { suite: `${FIO}environments:\n  a: { name: Lab }\n  b: { name: Lab }\n` },
    [
      'suite.yaml:9:14 environments.b.name: duplicate environment name: a already has it (got "Lab", expected a name no other environment has)',
    ],
  ],
  [
    "an environment in a region the tier does not have",
    { suite: `${FIO}environments:\n  a: { region: eu-west-1 }\n` },
    [
      'suite.yaml:8:16 environments.a.region: not a region of tier stress (got "eu-west-1", expected one of primary, secondary, tertiary, us-east-1)',
    ],
  ],
  [
    "a relative tool path",
    { suite: `${FIO}environments:\n  a: { tools: { fio: bin/fio } }\n` },
    [
      'suite.yaml:8:22 environments.a.tools.fio: a tool path must be absolute (got "bin/fio", expected a path starting with /)',
    ],
  ],
  [
    "a memory size that is not one",
    { suite: `${FIO}environments:\n  a: { resources: { cpu: 2, memory: lots } }\n` },
    [
      'suite.yaml:8:37 environments.a.resources.memory: does not match the required format (got "lots", expected a size such as 16Gi or 512Mi)',
    ],
  ],
  [
    "max_parallel of zero",
    { suite: `${FIO}environments:\n  a: { max_parallel: 0 }\n` },
    ["suite.yaml:8:22 environments.a.max_parallel: too small (got 0, expected a value >= 1)"],
  ],
  [
    "too few regions for the tier",
    { cli: { tier: "ultimate", regions: "us-east-1,eu-west-1" } },
    [
      "command line --regions: tier ultimate spans 3 regions (got 2 (us-east-1, eu-west-1), expected 3 region codes)",
    ],
  ],
  [
    "an unknown region",
    { cli: { regions: "mars-north-1" } },
    [
      'command line --regions: unknown region (got "mars-north-1", expected one of us-east-1, us-east-2, us-west-1, us-west-2, ca-central-1, sa-east-1, eu-west-1, eu-west-2, eu-west-3, eu-central-1, eu-central-2, eu-north-1, eu-south-1, eu-south-2, ap-southeast-1, ap-southeast-2, ap-southeast-3, ap-southeast-4, ap-south-1, ap-south-2, ap-northeast-1, ap-northeast-2, ap-northeast-3, ap-east-1, me-south-1, me-central-1, af-south-1, il-central-1)',
    ],
  ],
  [
    "a region listed twice",
    { cli: { tier: "ultimate", regions: "us-east-1,us-east-1,eu-west-1" } },
    ['command line --regions: a region is listed twice (got "us-east-1", expected distinct regions)'],
  ],
  [
    "a time scale that is not a number",
    { cli: { time_scale: "abc" } },
    ['command line --time-scale: cannot read this value (got "abc", expected a number > 0 and <= 100)'],
  ],
  [
    "a time scale too small for the phases",
    { cli: { tier: "base", time_scale: "0.0001" } },
    [
      "command line --time-scale: phase idle (300 s) would last 30 ms; phases must last at least 500 ms (got 0.0001, expected a time scale of at least 0.001667)",
      "command line --time-scale: phase baseline (900 s) would last 90 ms; phases must last at least 500 ms (got 0.0001, expected a time scale of at least 0.000556)",
      "command line --time-scale: phase light (1200 s) would last 120 ms; phases must last at least 500 ms (got 0.0001, expected a time scale of at least 0.000417)",
    ],
  ],
  [
    "a load mode from the environment that does not exist",
    { env: { TIERS_LOAD_MODE: "fast" } },
    ['environment TIERS_LOAD_MODE: not a valid value (got "fast", expected one of absolute, relative)'],
  ],
  [
    "an unknown tier",
    { cli: { tier: "mega" } },
    ['command line <tier>: not a valid value (got "mega", expected one of base, stress, chaos, ultimate)'],
  ],
  [
    "a contract pattern that is not a regular expression",
    {
      suite:
        'contracts:\n  MyContract:\n    parameters:\n      x: { type: string, pattern: "([a-z" }\n    results: {}\n',
    },
    [
      "suite.yaml:4:35 contracts.MyContract.parameters.x.pattern: not a valid regular expression: Invalid regular expression: /([a-z/: Unterminated character class",
    ],
  ],
  [
    "a contract default outside its own range",
    {
      suite:
        "contracts:\n  MyContract:\n    parameters:\n      x: { type: integer, range: [1, 5], default: 9 }\n    results: {}\n",
    },
    [
      "suite.yaml:4:51 contracts.MyContract.parameters.x.default: default does not satisfy the parameter's own type, range or pattern (got 9)",
    ],
  ],
  [
    "a contract rule for an undeclared result",
    {
      suite:
        "contracts:\n  MyContract:\n    parameters: {}\n    results:\n      a: { type: float }\n    rules:\n      b: { max: 1 }\n",
    },
    [
      'suite.yaml:7:10 contracts.MyContract.rules.b: rule for a result the contract does not declare (got "b", expected one of a)',
    ],
  ],
  [
    "a file redefining a catalog contract",
    { suite: "contracts:\n  IperfContract:\n    parameters: {}\n    results: {}\n" },
    [
      'suite.yaml:2:3 contracts.IperfContract: the catalog already defines this contract (got "IperfContract", expected a new contract name (tighten a catalog contract with a test\'s validation block))',
    ],
  ],
  [
    "a gate naming an alert that does not exist (reported once, not per phase)",
    {
      suite: suite(
        test1("        tool: fio\n"),
        '    gates:\n      default:\n        - { when: "alert:HighLatencyy", action: abort }\n',
      ),
    },
    [
      `suite.yaml:6:19 test_suites.s.gates.default[0].when: names no alert of the catalog (got "alert:HighLatencyy", expected one of ${ALERTS})`,
    ],
  ],
  [
    "the command tool without a contract",
    { suite: suite(test1("        tool: command\n")) },
    [
      "suite.yaml:5:9 test_suites.s.tests[0]: tool command needs a contract that says which fields are metrics (expected a contract: key naming a contract of the suite file)",
    ],
  ],
  [
    "two suites and no choice",
    {
      suite:
        "test_suites:\n  a:\n    name: A\n    tests: [{ name: x, tool: fio }]\n  b:\n    name: B\n    tests: [{ name: y, tool: fio }]\n",
    },
    [
      "suite.yaml:2:3 test_suites: the file defines 2 suites; say which one to run (got a, b, expected --suite-name <id> or options.suite)",
    ],
  ],
  [
    "a suite name the file does not have",
    { suite: FIO, cli: { suite: "zzz" } },
    ['command line --suite-name: no suite zzz in suite.yaml (got "zzz", expected one of s)'],
  ],
  [
    "an environment count with a file that lists environments",
    { suite: `${FIO}environments:\n  a: {}\n`, cli: { environments: "3" } },
    [
      "command line --environments: the suite file suite.yaml already defines its environments (got 3, expected no environment count with a file that lists environments)",
    ],
  ],
];

describe("bad input: every problem named with file, line, column, key, value and what was expected", () => {
  it("has at least 25 distinct bad inputs", () => {
    expect(new Set(cases.map((c) => c[0])).size).toBeGreaterThanOrEqual(25);
  });

  it.each(cases)("%s", (_name, c, expected) => {
    expect(planProblems(c)).toStrictEqual(expected);
  });

  it("reports every problem of a load at once, across the file and the command line", () => {
    const problems = planProblems({
      suite: suite(
        test1("        tool: iperf3\n        parameters: { duration: 0, streams: 2, bandwidth: 1Gbit }\n"),
      ),
      cli: { time_scale: "-1" },
    });
    expect(problems).toStrictEqual([
      "suite.yaml:7:33 test_suites.s.tests[0].parameters.duration: out of range (got 0, expected a value >= 1)",
      'suite.yaml:7:45 test_suites.s.tests[0].parameters.streams: unknown parameter (got "streams", expected one of duration, parallel_streams, bandwidth, protocol, reverse, server, port)',
      'suite.yaml:7:59 test_suites.s.tests[0].parameters.bandwidth: does not match the pattern (got "1Gbit", expected a string matching /^\\d+[MGT]$/)',
      "command line --time-scale: not a valid value (got -1, expected a number > 0 and <= 100)",
    ]);
  });

  it("accepts the seed's own network_performance suite, contracts and environments verbatim", () => {
    // seed 000's test_definitions.yaml, contracts.yaml and environments.yaml in one file
    const seedYaml = `test_suites:
  network_performance:
    name: "Network Performance Suite"
    tests:
      - name: iperf_bandwidth
        tool: iperf3
        contract: IperfContract
        parameters:
          duration: 30
          parallel_streams: 4
          bandwidth: "1G"
        validation:
          min_bandwidth: "900M"
          max_latency: "10ms"
environments:
  prod_environment:
    name: "Production Environment"
    type: isolated
    resources:
      cpu: 4
      memory: "16Gi"
    tools:
      iperf3: "/usr/local/bin/iperf3"
      elbencho: "/usr/local/bin/elbencho"
    storage:
      path: "/data/benchmark/results"
      format: "sqlite"
`;
    expect(planProblems({ suite: seedYaml })).toStrictEqual([]);
  });
});
