import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { arch } from "node:os";
import { join } from "node:path";
import type { FakeClock } from "../../sut/supervisor.js";
import type { FaultInjector } from "./injector.js";

/**
 * clock_skew with libfaketime (Debian package `faketime`): the SUT runs with libfaketime preloaded
 * and reads its wall-clock offset from a file, so the injector moves the SUT's clock by rewriting
 * that file (Chaos Mesh's TimeChaos shifts CLOCK_REALTIME the same way, inside one process). Only
 * the wall clock moves (`FAKETIME_DONT_FAKE_MONOTONIC=1`): Node's timers run on the monotonic
 * clock and abort when it jumps back. The injector checks on the SUT's `/healthz` that the clock
 * really moved, and back.
 */

const MULTIARCH: Record<string, string> = { x64: "x86_64-linux-gnu", arm64: "aarch64-linux-gnu" };

/** libfaketime.so.1 on this machine (`TIERS_LIBFAKETIME` overrides), or undefined. */
export function findLibfaketime(): string | undefined {
  const candidates = [
    process.env.TIERS_LIBFAKETIME,
    MULTIARCH[arch()] && `/usr/lib/${MULTIARCH[arch()]}/faketime/libfaketime.so.1`,
    "/usr/lib/faketime/libfaketime.so.1",
    "/usr/local/lib/faketime/libfaketime.so.1",
  ];
  return candidates.find((p): p is string => typeof p === "string" && p !== "" && existsSync(p));
}

/** A fake clock for a SUT started in `dir` (offset file at +0), or undefined without libfaketime. */
export async function prepareFakeClock(dir: string): Promise<FakeClock | undefined> {
  const library = findLibfaketime();
  if (!library) return undefined;
  const timestampFile = join(dir, "faketime.offset");
  await writeFile(timestampFile, "+0\n");
  return { library, timestampFile };
}

/** The SUT's clock minus ours, ms (from `/healthz`'s `now_ms`, against the middle of the request). */
export async function observeSkewMs(healthUrl: string): Promise<number> {
  const before = Date.now();
  const response = await fetch(healthUrl, { signal: AbortSignal.timeout(5000) });
  const body = (await response.json()) as { now_ms?: unknown };
  const after = Date.now();
  if (typeof body.now_ms !== "number") throw new Error(`${healthUrl} did not report now_ms`);
  return body.now_ms - (before + after) / 2;
}

export class ClockSkewInjector implements FaultInjector {
  readonly scenario = "clock_skew";
  private moved = false;

  /**
   * @param clock the SUT's fake clock (undefined: the SUT has none, the fault is skipped)
   * @param offsetS how far to move the SUT's clock, seconds (negative moves it back)
   * @param healthUrl the SUT's `/healthz`, to check the clock moved
   */
  constructor(
    private readonly clock: FakeClock | undefined,
    private readonly offsetS: number,
    private readonly healthUrl?: string,
    private readonly toleranceMs = 2000,
  ) {}

  unavailable(): string | undefined {
    return this.clock ? undefined : "the SUT has no fake clock (libfaketime: Debian package faketime)";
  }

  private async setOffset(seconds: number): Promise<number | undefined> {
    await writeFile(this.clock!.timestampFile, `${seconds >= 0 ? "+" : "-"}${Math.abs(seconds)}\n`);
    if (!this.healthUrl) return undefined;
    const observed = await observeSkewMs(this.healthUrl);
    if (Math.abs(observed - seconds * 1000) > this.toleranceMs) {
      throw new Error(`the SUT's clock reads ${Math.round(observed)} ms off, expected ${seconds * 1000} ms`);
    }
    return Math.round(observed);
  }

  async apply(): Promise<Record<string, unknown>> {
    this.moved = true;
    const observed = await this.setOffset(this.offsetS);
    return { offset_s: this.offsetS, ...(observed !== undefined ? { observed_skew_ms: observed } : {}) };
  }

  async undo(): Promise<Record<string, unknown>> {
    if (!this.moved || !this.clock) return { restored: false };
    const observed = await this.setOffset(0);
    this.moved = false;
    return { restored: true, ...(observed !== undefined ? { observed_skew_ms: observed } : {}) };
  }
}
