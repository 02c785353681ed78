/**
 * Chaos Mesh as test-tiers uses it, in one place: the chart the platform installs, the namespace
 * annotation that opens an environment to injection, the kinds the orchestrator creates (and its
 * Role allows), and the labels its sweep finds them by. Read by `components/` and the orchestrator.
 */

/** The Helm chart, pinned: its CRDs are the ones the injectors' resources are validated against. */
export const CHAOS_MESH_CHART = {
  chart: "chaos-mesh",
  version: "2.8.3",
  repo: "https://charts.chaos-mesh.org",
} as const;

/** Chaos Mesh's own namespace: exempt from PSA restricted (its daemon is privileged, see policies/lib/namespaces.ts). */
export const CHAOS_MESH_NAMESPACE = "chaos-mesh";

/** Where EKS's nodes (and kind's) run containerd's socket: what chaos-daemon talks to. */
export const CONTAINERD_SOCKET = "/run/containerd/containerd.sock";

/**
 * With `controllerManager.enableFilterNamespace`, Chaos Mesh injects only into namespaces that carry
 * this annotation: the environment namespaces of a tier that runs the chaos phase, nothing else.
 */
export const CHAOS_INJECT_ANNOTATION = { key: "chaos-mesh.org/inject", value: "enabled" } as const;

export const CHAOS_MESH_GROUP = "chaos-mesh.org";
export const CHAOS_MESH_VERSION = "v1alpha1";
export const CHAOS_MESH_API_VERSION = `${CHAOS_MESH_GROUP}/${CHAOS_MESH_VERSION}`;

/** The kinds the orchestrator creates, with their plural resource names (the Role's `resources`). */
export const CHAOS_KINDS = {
  PodChaos: "podchaos",
  NetworkChaos: "networkchaos",
  StressChaos: "stresschaos",
  TimeChaos: "timechaos",
  IOChaos: "iochaos",
} as const;
export type ChaosKind = keyof typeof CHAOS_KINDS;

/** What the orchestrator may do with them: create, read back, list for its sweep, delete. */
export const CHAOS_VERBS = ["create", "get", "list", "delete", "deletecollection"] as const;

/** Labels on every chaos resource the orchestrator creates: its sweep deletes by them. */
export const CHAOS_LABELS = {
  /** Always `orchestrator`: the sweep at start deletes every resource carrying it in the namespace. */
  injectedBy: "test-tiers/injected-by",
  /** The cycle id: the end of a phase or an aborted cycle deletes that cycle's resources. */
  cycle: "test-tiers/cycle",
  scenario: "test-tiers/scenario",
} as const;

/**
 * The pods the injectors aim at, by the labels the environment's Deployments carry
 * (components/environment/workloads.ts): the SUT is injected into; the orchestrator is the other
 * side of a partition (its probes are what must fail).
 */
export const CHAOS_TARGETS = {
  sut: { "app.kubernetes.io/name": "sut" },
  orchestrator: { "app.kubernetes.io/name": "orchestrator" },
} as const;
