import { createHash } from "node:crypto";
import {
  CHAOS_KINDS,
  CHAOS_LABELS,
  CHAOS_MESH_API_VERSION,
  CHAOS_TARGETS,
  type ChaosKind,
} from "../../../../tiers/infra/chaos-mesh.js";

/**
 * The Chaos Mesh resource for each scenario of the chaos phase, as a plain body (pure: the
 * injector sends it, the tests validate it against the upstream CRDs). Every one selects the
 * environment's SUT pods in the environment's own namespace only, lasts the plan's `duration_ms`
 * for that fault, and carries the labels the sweeps delete by.
 *
 * | scenario | kind | what it does |
 * | --- | --- | --- |
 * | pod_kill | PodChaos `pod-kill` | kills one SUT pod (grace 0); its Deployment starts another |
 * | pod_pause (local extra) | PodChaos `pod-failure` | makes one SUT pod unavailable for the window; the nearest Chaos Mesh action to the local SIGSTOP (no freeze action exists) |
 * | network_partition | NetworkChaos `partition` | cuts the SUT pods from the orchestrator both ways |
 * | network_delay (local extra) | NetworkChaos `delay` | adds latency with jitter to the SUT pods' traffic |
 * | resource_starvation | StressChaos | CPU and memory stressors inside the SUT pods |
 * | clock_skew | TimeChaos | moves the SUT's CLOCK_REALTIME 5 minutes ahead (as the local libfaketime) |
 * | disk_failure | IOChaos `fault` | EIO on every file operation under the SUT's /tmp volume |
 */

export const CLUSTER_SCENARIOS = [
  "pod_kill",
  "pod_pause",
  "network_partition",
  "network_delay",
  "resource_starvation",
  "clock_skew",
  "disk_failure",
] as const;
export type ClusterScenario = (typeof CLUSTER_SCENARIOS)[number];

export function isClusterScenario(s: string): s is ClusterScenario {
  return (CLUSTER_SCENARIOS as readonly string[]).includes(s);
}

export interface ChaosResourceInput {
  readonly scenario: ClusterScenario;
  /** The environment's namespace: the resource's and the only one its selector names. */
  readonly namespace: string;
  readonly cycleId: string;
  readonly phase: string;
  /** The fault's position in the phase's seeded schedule (0-based): part of the name. */
  readonly index: number;
  readonly durationMs: number;
  /** clock_skew: how far ahead, seconds. @default 300 */
  readonly clockSkewS?: number;
}

export interface ChaosResource {
  readonly apiVersion: string;
  readonly kind: ChaosKind;
  /** The plural resource name (the API path and the Role's `resources`). */
  readonly plural: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly labels: Record<string, string>;
  };
  readonly spec: Record<string, unknown>;
}

/** A label value (at most 63 of [A-Za-z0-9._-], alphanumeric at both ends): the id itself, else a digest. */
export function cycleLabelValue(cycleId: string): string {
  return /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/.test(cycleId)
    ? cycleId
    : `h-${createHash("sha256").update(cycleId).digest("hex").slice(0, 32)}`;
}

/** Chaos Mesh's duration format: whole seconds at least, else milliseconds. */
export function chaosDuration(ms: number): string {
  const whole = Math.max(1, Math.round(ms));
  return whole % 1000 === 0 ? `${whole / 1000}s` : `${whole}ms`;
}

/** `tiers-<scenario>-<8 hex of the cycle>-<index>`: unique per cycle and fault, a DNS label. */
export function chaosResourceName(cycleId: string, scenario: string, index: number): string {
  const digest = createHash("sha256").update(cycleId).digest("hex").slice(0, 8);
  return `tiers-${scenario.replace(/_/g, "-")}-${digest}-${index}`;
}

function spec(input: ChaosResourceInput): { kind: ChaosKind; spec: Record<string, unknown> } {
  const selector = { namespaces: [input.namespace], labelSelectors: { ...CHAOS_TARGETS.sut } };
  const duration = chaosDuration(input.durationMs);
  switch (input.scenario) {
    case "pod_kill":
      return { kind: "PodChaos", spec: { action: "pod-kill", mode: "one", selector, gracePeriod: 0 } };
    case "pod_pause":
      return { kind: "PodChaos", spec: { action: "pod-failure", mode: "one", selector, duration } };
    case "network_partition":
      return {
        kind: "NetworkChaos",
        spec: {
          action: "partition",
          mode: "all",
          selector,
          direction: "both",
          target: {
            mode: "all",
            selector: { namespaces: [input.namespace], labelSelectors: { ...CHAOS_TARGETS.orchestrator } },
          },
          duration,
        },
      };
    case "network_delay":
      return {
        kind: "NetworkChaos",
        spec: {
          action: "delay",
          mode: "all",
          selector,
          direction: "to",
          delay: { latency: "200ms", jitter: "50ms", correlation: "25" },
          duration,
        },
      };
    case "resource_starvation":
      return {
        kind: "StressChaos",
        spec: {
          mode: "all",
          selector,
          stressors: { cpu: { workers: 2, load: 100 }, memory: { workers: 1, size: "256MB" } },
          duration,
        },
      };
    case "clock_skew":
      return {
        kind: "TimeChaos",
        spec: {
          mode: "all",
          selector,
          timeOffset: `${input.clockSkewS ?? 300}s`,
          clockIds: ["CLOCK_REALTIME"],
          duration,
        },
      };
    case "disk_failure":
      return {
        kind: "IOChaos",
        spec: {
          action: "fault",
          mode: "all",
          selector,
          volumePath: "/tmp",
          path: "/tmp/**",
          errno: 5,
          percent: 100,
          duration,
        },
      };
  }
}

/** The resource that injects `input.scenario` for its window. */
export function chaosResourceFor(input: ChaosResourceInput): ChaosResource {
  const { kind, spec: body } = spec(input);
  return {
    apiVersion: CHAOS_MESH_API_VERSION,
    kind,
    plural: CHAOS_KINDS[kind],
    metadata: {
      name: chaosResourceName(input.cycleId, input.scenario, input.index),
      namespace: input.namespace,
      labels: {
        "app.kubernetes.io/managed-by": "test-tiers-orchestrator",
        [CHAOS_LABELS.injectedBy]: "orchestrator",
        [CHAOS_LABELS.cycle]: cycleLabelValue(input.cycleId),
        [CHAOS_LABELS.scenario]: input.scenario.replace(/_/g, "-"),
        "test-tiers/phase": input.phase,
      },
    },
    spec: body,
  };
}

/** The body sent to the API (no `plural`). */
export function chaosBody(r: ChaosResource): Record<string, unknown> {
  const { plural: _plural, ...body } = r;
  return body;
}
