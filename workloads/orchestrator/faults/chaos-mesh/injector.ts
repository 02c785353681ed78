import { setTimeout as sleep } from "node:timers/promises";
import type { KubeContext } from "../../kube/context.js";
import type { FaultContext, FaultInjector } from "../injector.js";
import { ChaosApiError, ChaosMeshClient, type CreatedChaos, type SweptChaos } from "./client.js";
import { chaosResourceFor, isClusterScenario, type ChaosResource } from "./resources.js";

/** Where a fault sits in the cycle: what names its resource and labels it for the sweeps. */
export interface FaultSlot {
  readonly cycleId: string;
  readonly phase: string;
  /** Its position in the phase's seeded schedule. */
  readonly index: number;
}

/** How long a failed delete (5xx, transport) is retried before the undo fails. */
const DELETE_ATTEMPTS = 4;
const DELETE_BACKOFF_MS = 250;

/**
 * One fault on the cluster target: `apply` creates its Chaos Mesh resource in the environment's
 * namespace (Chaos Mesh's controller does the injecting and holds it for the resource's
 * `duration`); `undo` deletes it, which ends the injection at once if the window was cut short.
 * A create the API server refuses (403, 409, 422, 5xx) fails the apply with the server's status
 * line, which `runFault` records as `fault.apply_failed`; the phase goes on.
 */
export class ChaosMeshInjector implements FaultInjector {
  readonly scenario: string;
  private created: CreatedChaos | undefined;

  constructor(
    private readonly client: ChaosMeshClient,
    scenario: string,
    private readonly slot: FaultSlot,
  ) {
    this.scenario = scenario;
  }

  unavailable(): string | undefined {
    return isClusterScenario(this.scenario)
      ? undefined
      : `no Chaos Mesh resource for scenario ${this.scenario}`;
  }

  /** The resource this fault creates (for a window of `durationMs`). */
  resource(durationMs: number): ChaosResource {
    if (!isClusterScenario(this.scenario))
      throw new Error(`no Chaos Mesh resource for scenario ${this.scenario}`);
    return chaosResourceFor({
      scenario: this.scenario,
      namespace: this.client.namespace,
      cycleId: this.slot.cycleId,
      phase: this.slot.phase,
      index: this.slot.index,
      durationMs,
    });
  }

  async apply(ctx: FaultContext): Promise<Record<string, unknown>> {
    const r = this.resource(ctx.durationMs);
    this.created = await this.client.create(r);
    return {
      injector: "chaos-mesh",
      kind: r.kind,
      name: r.metadata.name,
      namespace: r.metadata.namespace,
      uid: this.created.uid ?? null,
      ...(typeof r.spec.action === "string" ? { action: r.spec.action } : {}),
      ...(typeof r.spec.duration === "string" ? { chaos_duration: r.spec.duration } : {}),
    };
  }

  async undo(): Promise<Record<string, unknown>> {
    const c = this.created;
    if (!c) return { deleted: false, reason: "nothing was created" };
    for (let attempt = 1; ; attempt += 1) {
      try {
        const deleted = await this.client.delete(c.kind, c.name);
        this.created = undefined;
        return { kind: c.kind, name: c.name, deleted, ...(deleted ? {} : { reason: "already gone" }) };
      } catch (error) {
        const status = error instanceof ChaosApiError ? error.status : null;
        const retriable = status === null || status >= 500 || status === 429;
        if (!retriable || attempt >= DELETE_ATTEMPTS) throw error;
        await sleep(DELETE_BACKOFF_MS * attempt);
      }
    }
  }
}

/** What the cluster target's runtime offers the phase runner instead of local injectors. */
export interface ClusterFaults {
  /** `Chaos Mesh in namespace <ns> (<source>)`, for events. */
  readonly description: string;
  injector(scenario: string, slot: FaultSlot): FaultInjector;
  /** Deletes the orchestrator's chaos resources: one cycle's, or (no id) every one in the namespace. */
  sweep(cycleId?: string): Promise<SweptChaos[]>;
}

export function chaosMeshFaults(kube: KubeContext): ClusterFaults {
  const client = new ChaosMeshClient(kube);
  return {
    description: `Chaos Mesh in namespace ${kube.namespace} (${kube.source})`,
    injector: (scenario, slot) => new ChaosMeshInjector(client, scenario, slot),
    sweep: (cycleId) => client.sweep(cycleId),
  };
}
