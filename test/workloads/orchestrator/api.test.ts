import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashPlan } from "../../../tiers/plan/hash.js";
import { formatKeyringLine, parseKeyring } from "../../../workloads/bundle/keyring.js";
import { loadSigningKey } from "../../../workloads/bundle/keys.js";
import { verifyBundle } from "../../../workloads/bundle/reader.js";
import type { OrchestratorClient } from "../../../runners/cycle/orchestrator-client.js";
import { serveEnvironment, testPlan, type ServedEnvironment } from "../../helpers/orchestrator.js";

const plan = testPlan({ tier: "base", time_scale: "0.004", load_scale: "0.2" });

let env: ServedEnvironment;
let client: OrchestratorClient;
beforeAll(async () => {
  env = await serveEnvironment();
  client = env.client();
});
afterAll(() => env.cleanup());

async function raw(
  method: string,
  path: string,
  init: { token?: string; body?: string } = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await env.fetch(path, {
    method,
    headers: {
      ...(init.token !== undefined ? { authorization: `Bearer ${init.token}` } : {}),
      "content-type": "application/json",
    },
    ...(init.body !== undefined ? { body: init.body } : {}),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe("orchestrator HTTP API (a real orchestrator serve process)", () => {
  it("answers /healthz without a token and everything else only with the right one", async () => {
    expect((await raw("GET", "/healthz")).json).toMatchObject({
      status: "ok",
      environment: "env-1",
      running_cycle: null,
    });
    expect(await raw("GET", "/v1/cycles")).toStrictEqual({
      status: 401,
      json: { error: "missing or wrong bearer token" },
    });
    expect((await raw("GET", "/v1/cycles", { token: "x".repeat(48) })).status).toBe(401);
    expect(await raw("GET", "/v1/cycles", { token: env.token })).toStrictEqual({
      status: 200,
      json: { cycles: [] },
    });
  });

  it("refuses an oversized request with 413 and a plan that fails validation with 400", async () => {
    const big = JSON.stringify({ plan: { pad: "x".repeat(5 * 1024 * 1024) } });
    expect((await raw("POST", "/v1/cycles", { token: env.token, body: big })).status).toBe(413);
    const bad = await raw("POST", "/v1/cycles", {
      token: env.token,
      body: JSON.stringify({ plan: { ...plan, tier: { name: "mega" } } }),
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatch(/^invalid plan: \d+ problems?$/);
    const editedPlan = { ...plan, warnings: ["edited"] };
    const edited = await raw("POST", "/v1/cycles", {
      token: env.token,
      body: JSON.stringify({ plan: editedPlan }),
    });
    expect(edited.status).toBe(400);
    expect(edited.json.problems).toStrictEqual([
      `request body hash: the plan's content does not match its hash (edited after it was compiled?) (got ${plan.hash.slice(0, 12)}, expected ${hashPlan(editedPlan).slice(0, 12)})`,
    ]);
  });

  it("refuses a plan for another environment: unknown environment", async () => {
    const renamed = testPlan({
      tier: "ultimate",
      time_scale: "0.004",
      environments: "2",
      regions: "us-east-1,eu-west-1,ap-southeast-1",
    });
    const res = await raw("POST", "/v1/cycles", {
      token: env.token,
      body: JSON.stringify({ plan: { ...renamed, environments: renamed.environments.slice(1) } }),
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.json.problems)).toContain(
      "unknown environment: the plan has no environment env-1",
    );
  });

  it("runs a triggered cycle, refuses a second trigger with 409 and the running id, shows live progress, exports a verifiable bundle", async () => {
    const badId = await raw("POST", "/v1/cycles", {
      token: env.token,
      body: JSON.stringify({ plan, cycle_id: "../etc" }),
    });
    expect(badId.status).toBe(400);
    expect(badId.json.problems).toStrictEqual([
      'request body cycle_id: not a valid cycle id (got "../etc", expected letters, digits, . _ - (up to 80), starting with a letter or digit)',
    ]);
    const cycleId = await client.trigger(plan, { cycleId: "run-20261122T000000Z" });
    expect(cycleId).toBe("run-20261122T000000Z");
    const second = await raw("POST", "/v1/cycles", { token: env.token, body: JSON.stringify({ plan }) });
    expect(second).toStrictEqual({
      status: 409,
      json: { error: `a cycle is already running: ${cycleId}`, running_cycle_id: cycleId },
    });

    const seen = new Set<string>();
    let status = await client.status(cycleId);
    let metricsDuringRun = "";
    while (status.state === "running" || status.state === "calibrating") {
      if (status.phase) seen.add(status.phase.name);
      if (!metricsDuringRun && status.phase) metricsDuringRun = await client.metrics();
      await new Promise((r) => setTimeout(r, 250));
      status = await client.status(cycleId);
    }
    expect(status.state).toBe("completed");
    expect(status.phases.map((p) => [p.name, p.status])).toStrictEqual([
      ["idle", "completed"],
      ["baseline", "completed"],
      ["light", "completed"],
    ]);
    expect([...seen].length).toBeGreaterThanOrEqual(2);
    expect(metricsDuringRun).toMatch(
      /^stress_phase_progression\{environment="env-1",cycle="[^"]+",phase="idle"\} [0-9.]+$/m,
    );
    expect(metricsDuringRun).toContain('tiers_cycle_running{environment="env-1"} 1');

    const bundle = await client.exportBundle(cycleId);
    expect(bundle.cycle_id).toBe(cycleId);
    const again = await client.exportBundle(cycleId);
    expect(again.bundle_id).toBe(bundle.bundle_id);
    const listed = await raw("GET", "/v1/bundles", { token: env.token });
    expect((listed.json.bundles as { bundle_id: string }[]).map((b) => b.bundle_id)).toStrictEqual([
      bundle.bundle_id,
    ]);

    const path = join(env.dir, "downloaded.tar.gz");
    await client.download(bundle.bundle_id, path);
    const key = await loadSigningKey(join(env.dir, "data", "keys", "bundle-signing.pem"));
    const served = await client.publicKey();
    expect(served.key_id).toBe(key.keyId);
    expect(served.keyring_line).toBe(formatKeyringLine("env-1", key.publicRaw, "env-1 signing key"));
    const manifest = await verifyBundle(path, { keyring: parseKeyring(served.keyring_line, "GET /v1/key") });
    expect(manifest.cycle_id).toBe(cycleId);
    expect(manifest.counts.results).toBe(
      plan.environments[0]!.phases.reduce((n, p) => n + p.tests.length + (p.load.kind === "none" ? 0 : 1), 0),
    );
    expect((await env.fetch("/metrics")).status).toBe(200);
  });
});
