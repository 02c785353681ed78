import { createWriteStream } from "node:fs";
import { rename } from "node:fs/promises";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ExitCode, TiersError } from "../../tiers/errors.js";
import type { CyclePlan } from "../../tiers/plan/schema.js";

/** A cycle as `GET /v1/cycles/:id` describes it. */
export interface CycleStatus {
  readonly cycle_id: string;
  readonly state: string;
  readonly verdict: "passed" | "failed" | null;
  readonly reason: string | null;
  readonly elapsed_ms?: number;
  readonly total_ms?: number;
  readonly phase?: { name: string; index: number; elapsed_ms: number; duration_ms: number } | null;
  readonly phases: readonly { name: string; status: string; gate: string | null }[];
  readonly latest?: {
    rps: number | null;
    p99_ms: number | null;
    errors: number | null;
    cpu_pct: number | null;
  };
  readonly results?: Record<string, number>;
}

export interface BundleInfo {
  readonly bundle_id: string;
  readonly cycle_id: string;
  readonly file: string;
  readonly size: number;
  readonly sha256: string;
  /** Where the orchestrator uploaded it besides its volume (EKS: its S3 prefix). */
  readonly location?: {
    readonly kind: "s3";
    readonly bucket: string;
    readonly key: string;
    readonly region: string;
    readonly version_id?: string;
  };
}

/** The runner's side of an orchestrator's HTTP API (bearer token, JSON). */
export class OrchestratorClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
    private readonly timeoutMs = 10_000,
  ) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
    let res: Response;
    try {
      res = await fetch(new URL(path, this.baseUrl), {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body !== undefined ? { "content-type": "application/json" } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new TiersError(
        ExitCode.Infrastructure,
        `${method} ${this.baseUrl}${path}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      json = { error: text };
    }
    return { status: res.status, json: json as T };
  }

  private fail(what: string, status: number, json: unknown): never {
    const error = (json as { error?: string }).error ?? JSON.stringify(json);
    throw new TiersError(ExitCode.Infrastructure, `${what}: HTTP ${status}: ${error}`);
  }

  /** Starts a cycle; `cycleId` names a new one (the runner gives every environment of a run the same id). */
  async trigger(plan: CyclePlan, options: { resume?: string; cycleId?: string } = {}): Promise<string> {
    const { status, json } = await this.call<{ cycle_id?: string; error?: string; problems?: string[] }>(
      "POST",
      "/v1/cycles",
      {
        plan,
        ...(options.resume ? { resume: options.resume } : {}),
        ...(options.cycleId ? { cycle_id: options.cycleId } : {}),
      },
    );
    if (status === 400) {
      throw new TiersError(ExitCode.InvalidConfig, `the orchestrator refused the plan: ${json.error ?? ""}`, {
        details: json.problems ?? [],
      });
    }
    if (status !== 202 || !json.cycle_id) this.fail("trigger a cycle", status, json);
    return json.cycle_id;
  }

  async status(cycleId: string): Promise<CycleStatus> {
    const { status, json } = await this.call<CycleStatus>("GET", `/v1/cycles/${encodeURIComponent(cycleId)}`);
    if (status !== 200) this.fail(`status of cycle ${cycleId}`, status, json);
    return json;
  }

  async exportBundle(cycleId: string): Promise<BundleInfo> {
    const { status, json } = await this.call<BundleInfo>(
      "POST",
      `/v1/cycles/${encodeURIComponent(cycleId)}/bundle`,
    );
    if (status !== 201) this.fail(`export the bundle of cycle ${cycleId}`, status, json);
    return json;
  }

  /** Downloads a bundle to `path` (written to a temporary name, then renamed). */
  async download(bundleId: string, path: string): Promise<number> {
    const res = await fetch(new URL(`/v1/bundles/${encodeURIComponent(bundleId)}`, this.baseUrl), {
      headers: { authorization: `Bearer ${this.token}` },
      signal: AbortSignal.timeout(120_000),
    }).catch((error: unknown) => {
      throw new TiersError(
        ExitCode.Infrastructure,
        `download bundle ${bundleId}: ${(error as Error).message}`,
      );
    });
    if (res.status !== 200 || !res.body)
      this.fail(`download bundle ${bundleId}`, res.status, { error: await res.text() });
    const partial = `${path}.partial`;
    await pipeline(Readable.fromWeb(res.body), createWriteStream(partial, { mode: 0o600 }));
    await rename(partial, path);
    return Number(res.headers.get("content-length") ?? 0);
  }

  /** Every bundle the environment has exported (`GET /v1/bundles`). */
  async bundles(): Promise<BundleInfo[]> {
    const { status, json } = await this.call<{ bundles?: BundleInfo[] }>("GET", "/v1/bundles");
    if (status !== 200 || !Array.isArray(json.bundles)) this.fail("list the bundles", status, json);
    return json.bundles;
  }

  /** The environment's public key as a keyring line (`GET /v1/key`). */
  async publicKey(): Promise<{ key_id: string; keyring_line: string }> {
    const { status, json } = await this.call<{ key_id: string; keyring_line: string }>("GET", "/v1/key");
    if (status !== 200) this.fail("read the environment's key", status, json);
    return json;
  }

  async metrics(): Promise<string> {
    const res = await fetch(new URL("/metrics", this.baseUrl), {
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    return res.text();
  }
}
