/**
 * The chaos phase on the cluster target, run by the real phase runner against the Kubernetes API
 * stand-in (test/support/kube-api.ts). No real API server and no Chaos Mesh ran: the stand-in's
 * `onCreate` hook plays Chaos Mesh's effect (the SUT fails its health check for a moment after
 * each resource is created), so detection and recovery are measured by the real probe on a real
 * HTTP SUT; what is checked is the resources' order and lifecycle, the recorded events, the gate
 * and that nothing is left behind after a finished or an aborted phase.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chaosRoleRules } from "../../../../components/environment/chaos-access.js";
import { CHAOS_KINDS } from "../../../../tiers/infra/chaos-mesh.js";
import { scheduleFaults } from "../../../../tiers/plan/faults.js";
import type { CyclePlan, PlanPhase } from "../../../../tiers/plan/schema.js";
import { CHAOS_SCENARIOS } from "../../../../tiers/schema/names.js";
import { runPhase } from "../../../../workloads/orchestrator/controller/phase-runner.js";
import { CycleProgress } from "../../../../workloads/orchestrator/controller/progress.js";
import type { EnvironmentRuntime } from "../../../../workloads/orchestrator/controller/runtime.js";
import { chaosMeshFaults } from "../../../../workloads/orchestrator/faults/chaos-mesh/injector.js";
import { EnvStore } from "../../../../workloads/orchestrator/storage/env-store.js";
import { testPlan } from "../../../helpers/orchestrator.js";
import { startKubeApi, type KubeApiStandIn } from "../../../support/kube-api.js";
import { tempDir } from "../../../support/temp.js";

const NS = "tiers-env-1";
const TOKEN = "stand-in-token-0123456789";
const SEED = 1234;
/** How long the stand-in's "Chaos Mesh" keeps the SUT unhealthy after a resource is created. */
const EFFECT_MS = 400;

let api: KubeApiStandIn;
let sut: Server;
let unhealthyUntil = 0;
/** Called after the stand-in stored a chaos resource. */
let afterCreate: (() => void) | undefined;
let dir: Awaited<ReturnType<typeof tempDir>>;
let sutUrl: string;

beforeAll(async () => {
  api = await startKubeApi({
    token: TOKEN,
    rules: chaosRoleRules().map((r) => ({
      apiGroups: r.apiGroups as string[],
      resources: r.resources as string[],
      verbs: r.verbs as string[],
      namespaces: [NS],
    })),
    onCreate: () => {
      unhealthyUntil = Date.now() + EFFECT_MS;
      afterCreate?.();
    },
  });
  sut = createServer((_req, res) => {
    res.statusCode = Date.now() < unhealthyUntil ? 503 : 200;
    res.end();
  });
  await new Promise<void>((r) => sut.listen(0, "127.0.0.1", r));
  sutUrl = `http://127.0.0.1:${(sut.address() as AddressInfo).port}`;
  dir = await tempDir("tiers-chaos-phase-");
});
afterAll(async () => {
  await api.close();
  sut.close();
  await dir.remove();
});

function chaosPhase(plan: CyclePlan, durationMs: number): PlanPhase {
  const base = plan.environments[0]!.phases.find((p) => p.name === "chaos")!;
  return {
    ...base,
    duration_ms: durationMs,
    load: { kind: "none" },
    tests: [],
    faults: scheduleFaults(CHAOS_SCENARIOS, durationMs, SEED),
    gate: [
      {
        id: "chaos.gate.1",
        action: "warn",
        source: "rollback.automation",
        check: "fault_recovery_missed",
        detect_within_ms: 30_000,
        within_ms: 120_000,
      },
    ],
  };
}

async function run(cycleId: string, phase: PlanPhase, signal: AbortSignal) {
  const plan = testPlan({ tier: "chaos", time_scale: "0.0036", load_mode: "relative" });
  const environment = { ...plan.environments[0]!, phases: [phase] };
  const store = EnvStore.open(join(dir.path, `${cycleId}.db`));
  store.createCycle(cycleId, environment.id, plan, new Date().toISOString());
  const config = new KubeConfig();
  config.loadFromString(api.kubeconfig(NS));
  const runtime: EnvironmentRuntime = {
    targetUrl: sutUrl,
    healthUrl: `${sutUrl}/healthz`,
    rawDir: join(dir.path, "raw"),
    scratchDir: join(dir.path, "scratch"),
    sampleRoots: () => [],
    cores: 1,
    cluster: chaosMeshFaults({ config, namespace: NS, source: "stand-in" }),
  };
  try {
    const summary = await runPhase({
      store,
      cycleId,
      plan,
      environment,
      phase,
      runtime,
      progress: new CycleProgress(cycleId, plan, environment),
      calibration: null,
      signal,
    });
    return { summary, events: [...store.events(cycleId)] };
  } finally {
    store.close();
  }
}

const leftover = () => Object.values(CHAOS_KINDS).flatMap((k) => api.objects(k, NS));

describe("a chaos phase on the cluster target", () => {
  it("creates one resource per fault in the seed's order, records each with start, end and recovery, and deletes them", async () => {
    // Slots of 3 s: a fault of 1.5 s, then time to recover before the next (as the plan schedules).
    const phase = chaosPhase(testPlan({ tier: "chaos" }), 15_000);
    const before = api.requests.length;
    const { summary, events } = await run("cycle-full", phase, new AbortController().signal);
    const creates = api.requests.slice(before).filter((r) => r.verb === "create");
    expect(creates.map((r) => r.status)).toStrictEqual(Array(5).fill(201));
    const expectedNames = phase.faults.map((f) => f.scenario);
    expect(events.filter((e) => e.kind === "fault.applied").map((e) => e.scenario)).toStrictEqual(
      expectedNames,
    );
    for (const f of phase.faults) {
      const mine = events.filter((e) => e.scenario === f.scenario);
      expect(mine.map((e) => e.kind)).toStrictEqual([
        "fault.applied",
        "fault.undone",
        "fault.recovery",
        "sut.recovery",
      ]);
      const [applied, undone, recovery] = mine;
      expect(undone!.ts_ms - applied!.ts_ms).toBeGreaterThanOrEqual(f.duration_ms);
      const r = recovery!.detail as Record<string, number | null>;

      expect(r.detection_ms).not.toBeNull();
      expect(r.recovery_ms).not.toBeNull();
      expect(r.first_failed_at_ms!).toBeGreaterThanOrEqual(r.injected_at_ms!);
      expect(r.healthy_again_at_ms!).toBeGreaterThan(r.first_failed_at_ms!);
      expect(r).toMatchObject({ detection_target_ms: 30_000, recovery_target_ms: 120_000 });
    }
    const rule = summary.gate.rules.find((g) => g.check === "fault_recovery_missed")!;
    expect(rule.outcome).toBe("pass");
    expect(leftover()).toStrictEqual([]);
  }, 60_000);

  it("an aborted cycle leaves no chaos resource behind", async () => {
    const phase = chaosPhase(testPlan({ tier: "chaos" }), 20_000);
    const abort = new AbortController();
    const first = phase.faults[0]!;
    afterCreate = () => setTimeout(() => abort.abort(new Error("stop requested")), 200);
    const { summary, events } = await run("cycle-aborted", phase, abort.signal).finally(() => {
      afterCreate = undefined;
    });
    expect(summary.status).toBe("aborted");
    const kinds = events.filter((e) => e.scenario === first.scenario).map((e) => e.kind);
    expect(kinds.slice(0, 2)).toStrictEqual(["fault.applied", "fault.undone"]);
    expect(events.filter((e) => e.kind === "fault.applied")).toHaveLength(1);
    expect(leftover()).toStrictEqual([]);
  }, 60_000);
});
