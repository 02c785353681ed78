import { CustomObjectsApi } from "@kubernetes/client-node";
import {
  CHAOS_KINDS,
  CHAOS_LABELS,
  CHAOS_MESH_GROUP,
  CHAOS_MESH_VERSION,
  type ChaosKind,
} from "../../../../tiers/infra/chaos-mesh.js";
import { describeKubeError, type KubeContext } from "../../kube/context.js";
import { chaosBody, cycleLabelValue, type ChaosResource } from "./resources.js";

/** A failed API call, with the one line `describeKubeError` makes of it (status, reason, message). */
export class ChaosApiError extends Error {
  override readonly name = "ChaosApiError";
  constructor(
    readonly status: number | null,
    readonly reason: string,
    line: string,
    options?: ErrorOptions,
  ) {
    super(line, options);
  }
}

function apiError(what: string, error: unknown): ChaosApiError {
  const d = describeKubeError(error);
  return new ChaosApiError(d.status, d.reason, `${what}: ${d.line}`, { cause: error });
}

export interface CreatedChaos {
  readonly kind: ChaosKind;
  readonly name: string;
  readonly uid: string | undefined;
}

export interface SweptChaos {
  readonly kind: ChaosKind;
  readonly name: string;
  /** The cycle label's value on the swept resource. */
  readonly cycle: string | undefined;
  readonly scenario: string | undefined;
}

/**
 * The Chaos Mesh resources of one namespace, through @kubernetes/client-node's CustomObjectsApi:
 * create, delete (already gone counts as deleted), and the sweeps — list by label, delete each.
 * Only the five kinds the environment's Role allows; never another namespace.
 */
export class ChaosMeshClient {
  private readonly api: CustomObjectsApi;
  readonly namespace: string;

  constructor(kube: KubeContext) {
    this.api = kube.config.makeApiClient(CustomObjectsApi);
    this.namespace = kube.namespace;
  }

  async create(resource: ChaosResource): Promise<CreatedChaos> {
    try {
      const created = (await this.api.createNamespacedCustomObject({
        group: CHAOS_MESH_GROUP,
        version: CHAOS_MESH_VERSION,
        namespace: this.namespace,
        plural: resource.plural,
        body: chaosBody(resource),
        fieldValidation: "Strict",
      })) as { metadata?: { uid?: string } };
      return { kind: resource.kind, name: resource.metadata.name, uid: created.metadata?.uid };
    } catch (error) {
      throw apiError(`creating ${resource.kind} ${this.namespace}/${resource.metadata.name}`, error);
    }
  }

  /** The API's address of one resource in this namespace. */
  private target(kind: ChaosKind, name: string) {
    return {
      group: CHAOS_MESH_GROUP,
      version: CHAOS_MESH_VERSION,
      namespace: this.namespace,
      plural: CHAOS_KINDS[kind],
      name,
    };
  }

  /** Deletes one resource; resolves false when it was already gone (404). */
  async delete(kind: ChaosKind, name: string): Promise<boolean> {
    try {
      await this.api.deleteNamespacedCustomObject(this.target(kind, name));
      return true;
    } catch (error) {
      if (describeKubeError(error).status === 404) return false;
      throw apiError(`deleting ${kind} ${this.namespace}/${name}`, error);
    }
  }

  /** Whether the resource exists now. */
  async exists(kind: ChaosKind, name: string): Promise<boolean> {
    try {
      await this.api.getNamespacedCustomObject(this.target(kind, name));
      return true;
    } catch (error) {
      if (describeKubeError(error).status === 404) return false;
      throw apiError(`reading ${kind} ${this.namespace}/${name}`, error);
    }
  }

  /**
   * Deletes every chaos resource the orchestrator made in the namespace (`cycleId` given: that
   * cycle's only), kind by kind. Every kind is tried even when one fails; the failures are thrown
   * together after.
   */
  async sweep(cycleId?: string): Promise<SweptChaos[]> {
    const selector = [
      `${CHAOS_LABELS.injectedBy}=orchestrator`,
      ...(cycleId !== undefined ? [`${CHAOS_LABELS.cycle}=${cycleLabelValue(cycleId)}`] : []),
    ].join(",");
    const swept: SweptChaos[] = [];
    const failures: string[] = [];
    for (const kind of Object.keys(CHAOS_KINDS) as ChaosKind[]) {
      let items: { metadata?: { name?: string; labels?: Record<string, string> } }[];
      try {
        const list = (await this.api.listNamespacedCustomObject({
          group: CHAOS_MESH_GROUP,
          version: CHAOS_MESH_VERSION,
          namespace: this.namespace,
          plural: CHAOS_KINDS[kind],
          labelSelector: selector,
        })) as { items?: typeof items };
        items = list.items ?? [];
      } catch (error) {
        failures.push(apiError(`listing ${kind} in ${this.namespace}`, error).message);
        continue;
      }
      for (const item of items) {
        const name = item.metadata?.name;
        if (!name) continue;
        try {
          if (await this.delete(kind, name))
            swept.push({
              kind,
              name,
              cycle: item.metadata?.labels?.[CHAOS_LABELS.cycle],
              scenario: item.metadata?.labels?.[CHAOS_LABELS.scenario],
            });
        } catch (error) {
          failures.push((error as Error).message);
        }
      }
    }
    if (failures.length > 0)
      throw new ChaosApiError(null, "", `sweeping chaos resources (${selector}): ${failures.join("; ")}`);
    return swept;
  }
}
