import { createWriteStream } from "node:fs";
import { rename } from "node:fs/promises";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Agent, fetch, type RequestInit, type Response } from "undici";
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

/** How the runner verifies an orchestrator that serves HTTPS. */
export interface OrchestratorTls {
  /** PEM of the run's CA: the only root the orchestrator's certificate may chain to. */
  readonly ca: string;
  /**
   * The name the certificate must carry (and the SNI sent), when it differs from the URL's host:
   * the Service's DNS name (`orchestrator.<ns>.svc`) reached through a port-forward on 127.0.0.1.
   */
  readonly servername?: string;
}

export interface OrchestratorClientOptions {
  /** @default 10000 */
  readonly timeoutMs?: number;
  /** Required for an `https:` base URL; an `http:` one is plain HTTP (`--insecure-http`). */
  readonly tls?: OrchestratorTls;
}

/** What a failed TLS handshake means, in the runner's words (Node's and OpenSSL's codes). */
export function describeTlsFailure(error: unknown, expectedHost: string): string | undefined {
  const cause = (error as { cause?: unknown }).cause ?? error;
  const code = (cause as NodeJS.ErrnoException | undefined)?.code ?? "";
  const reason = (cause as { reason?: string } | undefined)?.reason ?? (cause as Error | undefined)?.message;
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID")
    return `the orchestrator's certificate names another host than ${expectedHost} (${reason})`;
  if (
    [
      "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
      "UNABLE_TO_GET_ISSUER_CERT",
      "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
      "SELF_SIGNED_CERT_IN_CHAIN",
      "DEPTH_ZERO_SELF_SIGNED_CERT",
      "CERT_SIGNATURE_FAILURE",
      "CERT_UNTRUSTED",
    ].includes(code)
  )
    return `the orchestrator's certificate does not chain to the run's CA (${code})`;
  if (code === "CERT_HAS_EXPIRED" || code === "CERT_NOT_YET_VALID")
    return `the orchestrator's certificate is not valid now (${code})`;
  if (/WRONG_VERSION_NUMBER|ERR_SSL_/.test(code) || /wrong version number/i.test(String(reason)))
    return `the orchestrator does not speak TLS 1.3 (${code || reason})`;
  return undefined;
}

/**
 * The runner's side of an orchestrator's API (bearer token, JSON): HTTPS verified against the
 * run's CA and the expected host name, or plain HTTP where the URL says `http:`.
 */
export class OrchestratorClient {
  private readonly timeoutMs: number;
  private readonly dispatcher: Agent | undefined;
  private readonly host: string;

  constructor(
    readonly baseUrl: string,
    private readonly token: string,
    options: OrchestratorClientOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    const url = new URL(baseUrl);
    this.host = options.tls?.servername ?? url.hostname;
    if (url.protocol === "https:") {
      if (!options.tls)
        throw new TiersError(ExitCode.Infrastructure, `${baseUrl}: HTTPS needs the run's CA to verify it`);
      this.dispatcher = new Agent({
        connect: {
          ca: options.tls.ca,
          minVersion: "TLSv1.3",
          rejectUnauthorized: true,
          ...(options.tls.servername !== undefined ? { servername: options.tls.servername } : {}),
        },
        keepAliveTimeout: 2_000,
      });
    } else if (url.protocol !== "http:") {
      throw new TiersError(ExitCode.Infrastructure, `${baseUrl}: not an http: or https: URL`);
    }
  }

  /** Whether the API is reached over HTTPS (verified), else plain HTTP. */
  get verified(): boolean {
    return this.dispatcher !== undefined;
  }

  private request(path: string, init: RequestInit): Promise<Response> {
    return fetch(new URL(path, this.baseUrl), {
      ...init,
      ...(this.dispatcher ? { dispatcher: this.dispatcher } : {}),
    });
  }

  /** A failed request as the runner reports it: a refused certificate said plainly. */
  private unreachable(what: string, error: unknown): TiersError {
    const tls = this.dispatcher ? describeTlsFailure(error, this.host) : undefined;
    const cause = (error as { cause?: Error }).cause;
    const detail =
      tls ?? (cause?.message ? `${(error as Error).message}: ${cause.message}` : (error as Error).message);
    return new TiersError(ExitCode.Infrastructure, `${what}: ${detail}`, { cause: error });
  }

  /**
   * Checks the orchestrator answers (`GET /healthz`): over HTTPS this is the handshake that
   * verifies its certificate, so a wrong CA or host is refused before anything is triggered.
   */
  async check(): Promise<void> {
    let res: Response;
    try {
      res = await this.request("/healthz", { signal: AbortSignal.timeout(this.timeoutMs) });
      await res.arrayBuffer();
    } catch (error) {
      throw this.unreachable(`orchestrator at ${this.baseUrl}`, error);
    }
  }

  /** Closes the connections kept alive to the orchestrator. */
  async close(): Promise<void> {
    await this.dispatcher?.close().catch(() => undefined);
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
    let res: Response;
    try {
      res = await this.request(path, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body !== undefined ? { "content-type": "application/json" } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw this.unreachable(`${method} ${this.baseUrl}${path}`, error);
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
    const res = await this.request(`/v1/bundles/${encodeURIComponent(bundleId)}`, {
      headers: { authorization: `Bearer ${this.token}` },
      signal: AbortSignal.timeout(120_000),
    }).catch((error: unknown) => {
      throw this.unreachable(`download bundle ${bundleId}`, error);
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
    const res = await this.request("/metrics", { signal: AbortSignal.timeout(this.timeoutMs) });
    return res.text();
  }
}
