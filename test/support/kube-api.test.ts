import { BatchV1Api, CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import { afterEach, describe, expect, it } from "vitest";
import { describeKubeError } from "../../workloads/orchestrator/kube/context.js";
import { crdDirectory } from "../../runners/infra/custom-resources.js";
import { startKubeApi, type KubeApiStandIn } from "./kube-api.js";

/** The Kubernetes API stand-in answers @kubernetes/client-node as the API server would. */
let api: KubeApiStandIn | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

function clients(stand: KubeApiStandIn, namespace = "tiers-env-1") {
  const kc = new KubeConfig();
  kc.loadFromString(stand.kubeconfig(namespace));
  return { custom: kc.makeApiClient(CustomObjectsApi), batch: kc.makeApiClient(BatchV1Api) };
}

const chaos = (name: string, labels: Record<string, string> = {}) => ({
  apiVersion: "chaos-mesh.org/v1alpha1",
  kind: "PodChaos",
  metadata: { name, labels },
  spec: {
    action: "pod-kill",
    mode: "one",
    selector: { namespaces: ["tiers-env-1"], labelSelectors: { app: "sut" } },
  },
});
const ref = { group: "chaos-mesh.org", version: "v1alpha1", namespace: "tiers-env-1", plural: "podchaos" };

describe("Kubernetes API stand-in", () => {
  it("creates, gets, lists by label, and deletes custom resources; 409, 404 with Status bodies", async () => {
    api = await startKubeApi({ token: "t0k" });
    const { custom } = clients(api);
    const created = (await custom.createNamespacedCustomObject({
      ...ref,
      body: chaos("a", { "test-tiers/cycle": "c1" }),
    })) as {
      metadata: { uid: string; namespace: string };
    };
    expect(created.metadata.namespace).toBe("tiers-env-1");
    await custom.createNamespacedCustomObject({ ...ref, body: chaos("b", { "test-tiers/cycle": "c2" }) });
    const again: unknown = await custom
      .createNamespacedCustomObject({ ...ref, body: chaos("a") })
      .catch((e: unknown) => e);
    expect(describeKubeError(again)).toStrictEqual({
      status: 409,
      reason: "AlreadyExists",
      line: '409 AlreadyExists: podchaos.chaos-mesh.org "a" already exists',
    });
    const list = (await custom.listNamespacedCustomObject({
      ...ref,
      labelSelector: "test-tiers/cycle=c1",
    })) as {
      items: { metadata: { name: string } }[];
    };
    expect(list.items.map((i) => i.metadata.name)).toStrictEqual(["a"]);
    await custom.deleteNamespacedCustomObject({ ...ref, name: "a" });
    const gone: unknown = await custom
      .getNamespacedCustomObject({ ...ref, name: "a" })
      .catch((e: unknown) => e);
    expect(describeKubeError(gone).line).toBe('404 NotFound: podchaos.chaos-mesh.org "a" not found');
    expect(api.objects("podchaos").map((o) => o.metadata.name)).toStrictEqual(["b"]);
  });

  it("refuses what the rules do not allow (403) and a wrong token (401)", async () => {
    api = await startKubeApi({
      token: "t0k",
      user: "system:serviceaccount:tiers-env-1:orchestrator",
      rules: [
        { apiGroups: ["batch"], resources: ["jobs"], verbs: ["create", "get"], namespaces: ["tiers-env-1"] },
      ],
    });
    const { custom, batch } = clients(api);
    const denied: unknown = await custom
      .createNamespacedCustomObject({ ...ref, body: chaos("a") })
      .catch((e: unknown) => e);
    expect(describeKubeError(denied).line).toBe(
      '403 Forbidden: podchaos.chaos-mesh.org is forbidden: User "system:serviceaccount:tiers-env-1:orchestrator" cannot create resource "podchaos" in API group "chaos-mesh.org" in the namespace "tiers-env-1"',
    );
    const job = {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "load" },
      spec: { template: { spec: { containers: [], restartPolicy: "Never" } } },
    };
    await batch.createNamespacedJob({ namespace: "tiers-env-1", body: job });
    const elsewhere = await batch
      .createNamespacedJob({ namespace: "tiers-env-2", body: job })
      .catch((e: unknown) => e);
    expect(describeKubeError(elsewhere).status).toBe(403);
    const kc = new KubeConfig();
    kc.loadFromString(api.kubeconfig().replace('token: "t0k"', 'token: "wrong"'));
    const unauth = await kc
      .makeApiClient(BatchV1Api)
      .readNamespacedJob({ name: "load", namespace: "tiers-env-1" })
      .catch((e: unknown) => e);
    expect(describeKubeError(unauth).status).toBe(401);
    expect(api.requests.map((r) => `${r.verb} ${r.resource} ${r.status}`)).toStrictEqual([
      "create podchaos 403",
      "create jobs 201",
      "create jobs 403",
      "get jobs 401",
    ]);
  });

  (crdDirectory() ? it : it.skip)(
    "refuses a custom resource that breaks its CRD with 422 Invalid",
    async () => {
      api = await startKubeApi({ token: "t0k" });
      const { custom } = clients(api);
      const bad = chaos("a");
      (bad.spec as Record<string, unknown>).action = "pod-explode";
      const error: unknown = await custom
        .createNamespacedCustomObject({ ...ref, body: bad })
        .catch((e: unknown) => e);
      expect(describeKubeError(error)).toMatchObject({ status: 422, reason: "Invalid" });
      expect(api.objects("podchaos")).toStrictEqual([]);
    },
  );
});
