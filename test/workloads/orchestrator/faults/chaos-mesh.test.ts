/**
 * The cluster target's fault injectors against the Kubernetes API stand-in (test/support/kube-api.ts):
 * an HTTPS server answering as the API server does for custom resources. No real API server and no
 * Chaos Mesh ran: what is checked is what the orchestrator sends, what it does with each answer
 * (201, 404, 409, 403, 422, 5xx with Status bodies), that every body validates against the
 * upstream Chaos Mesh CRDs, and that nothing it created is left behind.
 */
import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { crdDirectory, validateCustomResource } from "../../../../runners/infra/custom-resources.js";
import { CHAOS_KINDS, CHAOS_LABELS } from "../../../../tiers/infra/chaos-mesh.js";
import { chaosRoleRules } from "../../../../components/environment/chaos-access.js";
import type { CycleEvent } from "../../../../workloads/shared/cycle.js";
import { runFault } from "../../../../workloads/orchestrator/faults/injector.js";
import { chaosMeshFaults } from "../../../../workloads/orchestrator/faults/chaos-mesh/injector.js";
import {
  chaosBody,
  chaosResourceFor,
  cycleLabelValue,
  CLUSTER_SCENARIOS,
} from "../../../../workloads/orchestrator/faults/chaos-mesh/resources.js";
import type { KubeContext } from "../../../../workloads/orchestrator/kube/context.js";
import { startKubeApi, type KubeApiStandIn, type KubeRule } from "../../../support/kube-api.js";
import { tempDir } from "../../../support/temp.js";

const NS = "tiers-env-1";
const TOKEN = "stand-in-token-0123456789";
/** The environment's Role, as components/environment/chaos-access.ts writes it, bound in NS. */
const ROLE: KubeRule[] = chaosRoleRules().map((r) => ({
  apiGroups: r.apiGroups as string[],
  resources: r.resources as string[],
  verbs: r.verbs as string[],
  namespaces: [NS],
}));

const CRDS = crdDirectory();
const ALL_KINDS = Object.values(CHAOS_KINDS);

function kubeOf(api: KubeApiStandIn): KubeContext {
  const config = new KubeConfig();
  config.loadFromString(api.kubeconfig(NS));
  return { config, namespace: NS, source: "stand-in" };
}

const leftover = (api: KubeApiStandIn) => ALL_KINDS.flatMap((k) => api.objects(k, NS));

describe("the Chaos Mesh resources of every scenario", () => {
  it.each(CLUSTER_SCENARIOS)("%s validates against the upstream CRD (or says it was skipped)", async (s) => {
    const r = chaosResourceFor({
      scenario: s,
      namespace: NS,
      cycleId: "2026-12-02T15-00-00Z-abc",
      phase: "chaos",
      index: 3,
      durationMs: 45_500,
    });
    expect(r.metadata.namespace).toBe(NS);
    expect(r.spec.selector).toStrictEqual({
      namespaces: [NS],
      labelSelectors: { "app.kubernetes.io/name": "sut" },
    });
    expect(r.metadata.labels[CHAOS_LABELS.injectedBy]).toBe("orchestrator");
    if (s !== "pod_kill") expect(r.spec.duration).toBe("45500ms");
    if (!CRDS) {
      console.log(`skipped: no ../shared/reference/crds here, ${r.kind} not validated against its CRD`);
      return;
    }
    const check = await validateCustomResource(chaosBody(r) as never);
    expect(check.checkedBy).toStrictEqual([`crd chaos-mesh.org_${r.plural}.yaml`]);
    expect(check.problems).toStrictEqual([]);
  });

  it("maps each scenario to its kind and action", () => {
    const of = (s: (typeof CLUSTER_SCENARIOS)[number]) => {
      const r = chaosResourceFor({
        scenario: s,
        namespace: NS,
        cycleId: "c",
        phase: "chaos",
        index: 0,
        durationMs: 1000,
      });
      return [r.kind, r.spec.action ?? null];
    };
    expect(Object.fromEntries(CLUSTER_SCENARIOS.map((s) => [s, of(s)]))).toStrictEqual({
      pod_kill: ["PodChaos", "pod-kill"],
      pod_pause: ["PodChaos", "pod-failure"],
      network_partition: ["NetworkChaos", "partition"],
      network_delay: ["NetworkChaos", "delay"],
      resource_starvation: ["StressChaos", null],
      clock_skew: ["TimeChaos", null],
      disk_failure: ["IOChaos", "fault"],
    });
  });

  it("keeps a long cycle id a valid label value (a digest), a short one as it is", () => {
    expect(cycleLabelValue("c-1")).toBe("c-1");
    const long = cycleLabelValue("x".repeat(80));
    expect(long).toMatch(/^h-[0-9a-f]{32}$/);
  });
});

describe("the injectors against the API stand-in", () => {
  let api: KubeApiStandIn;
  beforeAll(async () => {
    api = await startKubeApi({ token: TOKEN, rules: ROLE, user: `system:serviceaccount:${NS}:orchestrator` });
  });
  afterAll(() => api.close());
  afterEach(() => {
    for (const k of ALL_KINDS)
      for (const o of api.objects(k)) api.remove("chaos-mesh.org", k, o.metadata.namespace, o.metadata.name);
  });

  const window = (events: CycleEvent[], signal?: AbortSignal) => ({
    phase: "chaos" as const,
    durationMs: 150,
    emit: (e: CycleEvent) => events.push(e),
    ...(signal ? { signal } : {}),
  });

  it.each(CLUSTER_SCENARIOS)(
    "%s: created (201) in the namespace, recorded with start and end, deleted after",
    async (s) => {
      const faults = chaosMeshFaults(kubeOf(api));
      const events: CycleEvent[] = [];
      const before = api.requests.length;
      const record = await runFault(
        faults.injector(s, { cycleId: "cycle-a", phase: "chaos", index: 2 }),
        window(events),
      );
      expect(record.outcome).toBe("undone");
      const mine = api.requests.slice(before);
      const plural = chaosResourceFor({
        scenario: s,
        namespace: NS,
        cycleId: "cycle-a",
        phase: "chaos",
        index: 2,
        durationMs: 150,
      }).plural;
      expect(mine.map((r) => [r.verb, r.resource, r.namespace, r.status])).toStrictEqual([
        ["create", plural, NS, 201],
        ["delete", plural, NS, 200],
      ]);
      expect(events.map((e) => e.kind)).toStrictEqual(["fault.applied", "fault.undone"]);
      const [applied, undone] = events as [CycleEvent, CycleEvent];
      expect(applied.detail).toMatchObject({ injector: "chaos-mesh", namespace: NS, duration_ms: 150 });
      expect(undone.detail).toMatchObject({ deleted: true });
      expect(undone.ts_ms).toBeGreaterThanOrEqual(applied.ts_ms + 150);
      expect(leftover(api)).toStrictEqual([]);
    },
  );

  it.each([
    [403, "Forbidden", "a Role without iochaos"],
    [409, "AlreadyExists", "a resource of that name exists"],
    [422, "Invalid", "the server refuses the body"],
    [500, "InternalError", "the server fails"],
  ])(
    "a create answered %i (%s: %s) is recorded with its reason, and the phase goes on",
    async (status, reason) => {
      let faults = chaosMeshFaults(kubeOf(api));
      const slot = { cycleId: "cycle-b", phase: "chaos", index: 0 };
      const body = chaosResourceFor({ scenario: "disk_failure", namespace: NS, ...slot, durationMs: 150 });
      let narrow: KubeApiStandIn | undefined;
      if (status === 403) {
        narrow = await startKubeApi({
          token: TOKEN,
          rules: ROLE.map((r) => ({ ...r, resources: r.resources.filter((x) => x !== "iochaos") })),
          user: `system:serviceaccount:${NS}:orchestrator`,
        });
        faults = chaosMeshFaults(kubeOf(narrow));
      } else if (status === 409) {
        api.put("chaos-mesh.org", "iochaos", { ...chaosBody(body), metadata: { ...body.metadata } });
      } else {
        api.failNext("create", "iochaos", status);
      }
      try {
        const events: CycleEvent[] = [];
        const record = await runFault(faults.injector("disk_failure", slot), window(events));
        expect(record.outcome).toBe("apply_failed");
        const failed = events.find((e) => e.kind === "fault.apply_failed")!;
        expect(failed.detail.status).toBe(status);
        if (status !== 422 && status !== 500) expect(failed.detail.reason).toBe(reason);
        expect(String(failed.detail.error)).toMatch(
          new RegExp(`^creating IOChaos ${NS}/${body.metadata.name}: ${status}`),
        );
        // The undo still ran and deleted nothing it had not created.
        expect(events.map((e) => e.kind)).toStrictEqual(["fault.apply_failed", "fault.undone"]);
        expect(events[1]!.detail).toStrictEqual({ deleted: false, reason: "nothing was created" });
      } finally {
        await narrow?.close();
      }
    },
  );

  it("a resource already gone at the undo (404) counts as deleted, and a 503 on delete is retried", async () => {
    const faults = chaosMeshFaults(kubeOf(api));
    const events: CycleEvent[] = [];
    const gone = faults.injector("pod_pause", { cycleId: "cycle-c", phase: "chaos", index: 0 });
    const created: string[] = [];
    const stop = new AbortController();
    const run = runFault(gone, {
      ...window(events, stop.signal),
      durationMs: 60_000,
      emit: (e) => {
        events.push(e);
        if (e.kind === "fault.applied") {
          created.push(String(e.detail.name));
          api.remove("chaos-mesh.org", "podchaos", NS, String(e.detail.name));
          stop.abort();
        }
      },
    });
    expect((await run).outcome).toBe("undone");
    expect(events.at(-1)!.detail).toMatchObject({ deleted: false, reason: "already gone" });
    expect(api.requests.at(-1)).toMatchObject({ verb: "delete", status: 404 });

    api.failNext("delete", "networkchaos", 503, 2);
    const retried = await runFault(
      faults.injector("network_delay", { cycleId: "cycle-c", phase: "chaos", index: 1 }),
      window([]),
    );
    expect(retried.outcome).toBe("undone");
    expect(api.requests.slice(-3).map((r) => [r.verb, r.status])).toStrictEqual([
      ["delete", 503],
      ["delete", 503],
      ["delete", 200],
    ]);
    expect(leftover(api)).toStrictEqual([]);
  });

  it("an aborted window deletes its resource at once", async () => {
    const faults = chaosMeshFaults(kubeOf(api));
    const stop = new AbortController();
    const events: CycleEvent[] = [];
    const run = runFault(
      faults.injector("network_partition", { cycleId: "cycle-d", phase: "chaos", index: 0 }),
      {
        ...window(events, stop.signal),
        durationMs: 600_000,
        emit: (e) => {
          events.push(e);
          if (e.kind === "fault.applied") setTimeout(() => stop.abort(new Error("cycle aborted")), 20);
        },
      },
    );
    const record = await run;
    expect(record).toMatchObject({ outcome: "undone", reason: "the window was cut short" });
    expect(leftover(api)).toStrictEqual([]);
  });

  it("sweeps by the cycle label (one cycle's) and by the orchestrator's label (all), never a foreign resource", async () => {
    const put = (scenario: (typeof CLUSTER_SCENARIOS)[number], cycleId: string, index: number) => {
      const r = chaosResourceFor({
        scenario,
        namespace: NS,
        cycleId,
        phase: "chaos",
        index,
        durationMs: 1000,
      });
      api.put("chaos-mesh.org", r.plural, chaosBody(r) as never);
    };
    put("pod_kill", "cycle-x", 0);
    put("clock_skew", "cycle-x", 1);
    put("disk_failure", "cycle-y", 0);
    api.put("chaos-mesh.org", "podchaos", {
      apiVersion: "chaos-mesh.org/v1alpha1",
      kind: "PodChaos",
      metadata: { name: "someone-elses", namespace: NS, labels: { team: "sre" } },
      spec: {},
    });
    const faults = chaosMeshFaults(kubeOf(api));
    const x = await faults.sweep("cycle-x");
    expect(x.map((s) => [s.kind, s.cycle, s.scenario]).sort()).toStrictEqual([
      ["PodChaos", "cycle-x", "pod-kill"],
      ["TimeChaos", "cycle-x", "clock-skew"],
    ]);
    expect(
      leftover(api)
        .map((o) => o.metadata.name)
        .sort(),
    ).toStrictEqual(
      [
        chaosResourceFor({
          scenario: "disk_failure",
          namespace: NS,
          cycleId: "cycle-y",
          phase: "chaos",
          index: 0,
          durationMs: 1,
        }).metadata.name,
        "someone-elses",
      ].sort(),
    );
    const rest = await faults.sweep();
    expect(rest.map((s) => s.cycle)).toStrictEqual(["cycle-y"]);
    expect(leftover(api).map((o) => o.metadata.name)).toStrictEqual(["someone-elses"]);
    const lists = api.requests.filter((r) => r.verb === "list").slice(-5);
    expect(lists.map((r) => r.query.labelSelector)).toStrictEqual(
      Array(5).fill(`${CHAOS_LABELS.injectedBy}=orchestrator`),
    );
  });
});

describe("the orchestrator's start-up sweep (a restarted orchestrator)", () => {
  let api: KubeApiStandIn;
  let sut: Server;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    api = await startKubeApi({ token: TOKEN, rules: ROLE });
    sut = createServer((_req, res) => res.end("ok"));
    await new Promise<void>((r) => sut.listen(0, "127.0.0.1", r));
    dir = await tempDir("tiers-chaos-sweep-");
  });
  afterAll(async () => {
    await api.close();
    sut.close();
    await dir.remove();
  });

  it("deletes every chaos resource the orchestrator left, before it serves", async () => {
    for (const [i, s] of (["pod_kill", "network_partition", "resource_starvation"] as const).entries()) {
      const r = chaosResourceFor({
        scenario: s,
        namespace: NS,
        cycleId: "killed-cycle",
        phase: "chaos",
        index: i,
        durationMs: 1000,
      });
      api.put("chaos-mesh.org", r.plural, chaosBody(r) as never);
    }
    expect(leftover(api)).toHaveLength(3);
    const kubeconfig = join(dir.path, "kubeconfig");
    writeFileSync(kubeconfig, api.kubeconfig(NS), { mode: 0o600 });
    const { startRuntime } = await import("../../../../workloads/orchestrator/local-runtime.js");
    const { loadOrchestratorConfig } = await import("../../../../workloads/orchestrator/config.js");
    const port = (sut.address() as AddressInfo).port;
    const config = loadOrchestratorConfig(undefined, {
      TIERS_ENVIRONMENT: "env-1",
      TIERS_DATA_DIR: join(dir.path, "data"),
      TIERS_API_TOKEN: "t".repeat(24),
      TIERS_SUT_URL: `http://127.0.0.1:${port}`,
      TIERS_FAULTS: "chaos-mesh",
    });
    const saved = process.env.TIERS_KUBECONFIG;
    process.env.TIERS_KUBECONFIG = kubeconfig;
    try {
      const started = await startRuntime(config, 1000, () => undefined);
      expect(started.runtime.cluster?.description).toBe(
        `Chaos Mesh in namespace ${NS} (kubeconfig ${kubeconfig})`,
      );
      expect(started.sweptAtStart!.map((s) => [s.kind, s.cycle]).sort()).toStrictEqual([
        ["NetworkChaos", "killed-cycle"],
        ["PodChaos", "killed-cycle"],
        ["StressChaos", "killed-cycle"],
      ]);
      await started.stop();
    } finally {
      if (saved === undefined) delete process.env.TIERS_KUBECONFIG;
      else process.env.TIERS_KUBECONFIG = saved;
    }
    expect(leftover(api)).toStrictEqual([]);
  });

  it("refuses faults: chaos-mesh without Kubernetes access, naming the fix", async () => {
    const { startRuntime } = await import("../../../../workloads/orchestrator/local-runtime.js");
    const { loadOrchestratorConfig } = await import("../../../../workloads/orchestrator/config.js");
    const config = loadOrchestratorConfig(undefined, {
      TIERS_ENVIRONMENT: "env-1",
      TIERS_DATA_DIR: join(dir.path, "data2"),
      TIERS_API_TOKEN: "t".repeat(24),
      TIERS_SUT_URL: "http://127.0.0.1:9",
      TIERS_FAULTS: "chaos-mesh",
    });
    const saved = { k: process.env.TIERS_KUBECONFIG, h: process.env.KUBERNETES_SERVICE_HOST };
    delete process.env.TIERS_KUBECONFIG;
    delete process.env.KUBERNETES_SERVICE_HOST;
    try {
      await expect(startRuntime(config, 1000, () => undefined)).rejects.toThrow(
        "faults: chaos-mesh (TIERS_FAULTS) needs the Kubernetes API: run in a pod with its service account token, or set TIERS_KUBECONFIG",
      );
    } finally {
      if (saved.k !== undefined) process.env.TIERS_KUBECONFIG = saved.k;
      if (saved.h !== undefined) process.env.KUBERNETES_SERVICE_HOST = saved.h;
    }
  });
});
