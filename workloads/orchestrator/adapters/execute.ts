import { open } from "node:fs/promises";
import { loadCatalog } from "../../../tiers/catalog.js";
import type { PlanTest } from "../../../tiers/plan/schema.js";
import { DEFAULT_MAX_OUTPUT_BYTES, runToCompletion } from "../process/spawn.js";
import type { InProcessAdapter, Params, ProcessAdapter, RawOutput, RunContext } from "./adapter.js";
import type { RunEnd } from "./evaluate.js";
import { detectVersion, findExecutable } from "./locate.js";
import type { RawBytes } from "./raw-output.js";
import { early, type Outcome } from "./result.js";

/**
 * Running a prepared tool for `run-test.ts`: find it and its version, prepare, run it as a process
 * tree with timeout and cancellation (or in process), collect its output files, clean up.
 */

export interface ExecuteOptions {
  readonly maxOutputBytes?: number;
  /** Between SIGTERM and SIGKILL when a tool's tree is stopped. */
  readonly killGraceMs?: number;
}

/** What a finished run gives the evaluation. */
export interface Executed {
  readonly bytes: RawBytes;
  readonly end: RunEnd;
  readonly version: string | null;
}

export function abortReason(signal: AbortSignal | undefined): string | undefined {
  const r: unknown = signal?.reason;
  if (r === undefined) return undefined;
  if (r instanceof Error) return r.message;
  return typeof r === "string" ? r : JSON.stringify(r);
}

const decoder = new TextDecoder("utf-8");
export const decode = (b: Uint8Array | string): string => (typeof b === "string" ? b : decoder.decode(b));

/** Reads the tool's result files, at most `limit` bytes each (a runaway file is cut, not loaded whole). */
async function readOutputFiles(
  paths: Readonly<Record<string, string>>,
  limit: number,
): Promise<Record<string, Uint8Array>> {
  const files: Record<string, Uint8Array> = {};
  for (const [name, path] of Object.entries(paths)) {
    let handle;
    try {
      handle = await open(path, "r");
    } catch {
      continue; // The tool did not write it; parse decides what that means.
    }
    try {
      const buffer = Buffer.alloc(Math.min(limit, (await handle.stat()).size));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      files[name] = buffer.subarray(0, bytesRead);
    } catch {
      // Not a readable file (a directory where a file was expected): as if not written.
    } finally {
      await handle.close();
    }
  }
  return files;
}

export async function executeProcess(
  adapter: ProcessAdapter,
  test: PlanTest,
  params: Params,
  ctx: RunContext,
  options: ExecuteOptions,
): Promise<Executed | Outcome> {
  const catalogTool = loadCatalog().tools[adapter.tool];
  const exe = adapter.executable(params);
  if (exe === null) return early("invalid", `${adapter.tool}: no program to run`, { ...params });
  const path = await findExecutable(exe, ctx.path ?? process.env.PATH);
  if (!path) {
    const where = exe.includes("/") ? `${exe} is not an executable file` : `${exe} not found on PATH`;
    const pkg = catalogTool.debian_package
      ? `; Debian package ${catalogTool.debian_package}`
      : catalogTool.binary !== null
        ? "; not packaged in Debian"
        : "";
    return early("skipped", `tool not installed: ${adapter.tool} (${where}${pkg})`, { ...params });
  }
  const version = await detectVersion(adapter, path);
  let prepared;
  try {
    prepared = await adapter.prepare(params, ctx, path);
  } catch (error) {
    return early(
      "failed",
      `could not prepare the ${adapter.tool} run: ${(error as Error).message}`,
      { ...params },
      version,
    );
  }
  const maxOutputBytes = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  let done;
  let files: Record<string, Uint8Array> = {};
  try {
    done = await runToCompletion(prepared.invocation, {
      timeoutMs: test.timeout_ms,
      signal: ctx.signal,
      maxOutputBytes,
      killGraceMs: options.killGraceMs,
    });
    files = await readOutputFiles(prepared.outputFiles ?? {}, maxOutputBytes);
  } finally {
    await prepared.cleanup().catch(() => undefined);
  }
  return {
    bytes: { stdout: done.stdout, stderr: done.stderr, files },
    end: {
      endedBy: done.endedBy,
      exitCode: done.exitCode,
      signal: done.signal,
      timeoutMs: test.timeout_ms,
      cancelReason: done.endedBy === "cancel" ? abortReason(ctx.signal) : undefined,
      spawnError: done.spawnError,
      maxOutputBytes,
    },
    version,
  };
}

export async function executeInProcess(
  adapter: InProcessAdapter,
  test: PlanTest,
  params: Params,
  ctx: RunContext,
): Promise<Executed> {
  const controller = new AbortController();
  const state: { endedBy: RunEnd["endedBy"] } = { endedBy: "exit" };
  const timer = setTimeout(() => {
    state.endedBy = "timeout";
    controller.abort(new Error("timeout"));
  }, test.timeout_ms);
  const onAbort = (): void => {
    if (state.endedBy === "exit") state.endedBy = "cancel";
    controller.abort(ctx.signal?.reason);
  };
  ctx.signal?.addEventListener("abort", onAbort, { once: true });
  let raw: RawOutput;
  try {
    raw = await adapter.execute(params, ctx, controller.signal);
  } catch (error) {
    raw = { stdout: "", stderr: `${adapter.tool}: ${(error as Error).message}`, exitCode: 1, files: {} };
  } finally {
    clearTimeout(timer);
    ctx.signal?.removeEventListener("abort", onAbort);
  }
  return {
    bytes: { stdout: raw.stdout, stderr: raw.stderr, files: raw.files },
    end: {
      endedBy: state.endedBy,
      exitCode: raw.exitCode,
      signal: null,
      timeoutMs: test.timeout_ms,
      cancelReason: state.endedBy === "cancel" ? abortReason(ctx.signal) : undefined,
    },
    version: adapter.version,
  };
}
