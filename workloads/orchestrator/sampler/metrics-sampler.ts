import type { PhaseName } from "../../../tiers/schema/names.js";
import type { Sample } from "../../shared/cycle.js";
import { CPU_SERIES, RSS_SERIES } from "./process-sampler.js";

/**
 * CPU % and RSS of an external SUT (a container or a pod the orchestrator cannot see into), from
 * the SUT's own `/metrics` every second: `process_cpu_seconds_total` over the wall time between two
 * scrapes, times the cores the SUT is entitled to, and `process_resident_memory_bytes`. The same
 * series the process sampler writes, so bands, gates and reports read them alike. A scrape that
 * fails, a SUT that restarted (its counter went down), or an exposition without those series gives
 * a gap, never a made-up zero.
 */

export interface MetricsSamplerOptions {
  /** The SUT's Prometheus exposition (`http://sut:8080/metrics`). */
  readonly url: string;
  readonly intervalMs?: number;
  /** Cores the SUT is entitled to: 100 % means all of them busy. */
  readonly cores: number;
  readonly phase?: () => PhaseName | null;
  readonly onSample: (sample: Sample) => void;
  /** One scrape's timeout. @default 900 */
  readonly timeoutMs?: number;
}

/** The exposition is read up to this many bytes: a SUT's process metrics are a few KiB. */
const MAX_EXPOSITION_BYTES = 4 * 1024 * 1024;

/**
 * The value of an unlabelled sample line `name value [timestamp]` in the text exposition format
 * (hand-read: two unlabelled series, no library parses less).
 */
export function exposedValue(text: string, name: string): number | undefined {
  const m = new RegExp(`^${name}(?:\\{\\})? ([-+0-9.eE]+|NaN|[+-]Inf)(?: -?\\d+)?$`, "m").exec(text);
  if (!m) return undefined;
  const v = Number(m[1]);
  return Number.isFinite(v) ? v : undefined;
}

export class MetricsSampler {
  private timer: NodeJS.Timeout | undefined;
  private previous: { cpuS: number; atMs: number } | undefined;
  private inFlight: Promise<Sample[]> | undefined;

  constructor(private readonly options: MetricsSamplerOptions) {}

  start(): void {
    if (this.timer) return;
    void this.sampleNow();
    this.timer = setInterval(() => void this.sampleNow(), this.options.intervalMs ?? 1000);
  }

  /** Stops sampling; resolves once a scrape in flight has emitted (nothing arrives after). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }

  /** Scrapes once and emits what it can; the first scrape only sets the CPU baseline. */
  async sampleNow(): Promise<Sample[]> {
    if (this.inFlight) return [];
    this.inFlight = this.sampleOnce();
    try {
      return await this.inFlight;
    } finally {
      this.inFlight = undefined;
    }
  }

  private async sampleOnce(): Promise<Sample[]> {
    const text = await this.scrape();
    const atMs = Date.now();
    if (text === undefined) {
      this.previous = undefined;
      return [];
    }
    const cpuS = exposedValue(text, "process_cpu_seconds_total");
    const rss = exposedValue(text, "process_resident_memory_bytes");
    const phase = this.options.phase?.() ?? null;
    const samples: Sample[] = [];
    const before = this.previous;
    this.previous = cpuS === undefined ? undefined : { cpuS, atMs };
    if (cpuS !== undefined && before && cpuS >= before.cpuS && atMs > before.atMs) {
      const pct = ((cpuS - before.cpuS) / ((atMs - before.atMs) / 1000) / this.options.cores) * 100;
      samples.push({ ts_ms: atMs, phase, series: CPU_SERIES, value: pct });
    }
    if (rss !== undefined && rss >= 0) samples.push({ ts_ms: atMs, phase, series: RSS_SERIES, value: rss });
    for (const s of samples) this.options.onSample(s);
    return samples;
  }

  private async scrape(): Promise<string | undefined> {
    try {
      const res = await fetch(this.options.url, {
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 900),
        headers: { accept: "text/plain" },
      });
      if (!res.ok) {
        await res.arrayBuffer().catch(() => undefined);
        return undefined;
      }
      const declared = Number(res.headers.get("content-length") ?? "0");
      if (declared > MAX_EXPOSITION_BYTES) {
        await res.body?.cancel().catch(() => undefined);
        return undefined;
      }
      const bytes = new Uint8Array(await res.arrayBuffer());
      if (bytes.length > MAX_EXPOSITION_BYTES) return undefined;
      return new TextDecoder().decode(bytes);
    } catch {
      return undefined;
    }
  }
}
