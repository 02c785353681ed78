/**
 * One direction of one proxied connection: a timed queue from `src` to `dst` that applies the
 * proxy's current latency, jitter, bandwidth cap and black hole, keeps TCP's order, and pauses the
 * source when too much is queued.
 */
import type { Socket } from "node:net";

export type PartitionMode = false | "refuse" | "blackhole";

export interface ProxyConditions {
  /** One-way added delay, ms. */
  readonly latencyMs: number;
  /** Uniform ± spread around the latency, ms. */
  readonly jitterMs: number;
  /** Per direction, all connections together; 0 = unlimited. */
  readonly bandwidthBytesPerSec: number;
  readonly partition: PartitionMode;
}

export const NO_FAULTS: ProxyConditions = Object.freeze({
  latencyMs: 0,
  jitterMs: 0,
  bandwidthBytesPerSec: 0,
  partition: false,
});

const HIGH_WATER = 1024 * 1024;

/** One direction's shared state across connections: bytes seen and when the bandwidth cap frees up. */
export interface Direction {
  nextFree: number;
  bytes: number;
}

/** One direction of one connection: a timed queue from `src` to `dst`. */
export class Pipe {
  private readonly queue: { at: number; chunk: Buffer }[] = [];
  private pending = 0;
  private lastAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private ended = false;

  constructor(
    private readonly src: Socket,
    private readonly dst: Socket,
    private readonly conditions: () => ProxyConditions,
    private readonly direction: Direction,
  ) {
    src.on("data", (chunk: Buffer) => this.push(chunk));
    src.on("end", () => {
      this.ended = true;
      this.drain();
    });
  }

  private push(chunk: Buffer): void {
    const c = this.conditions();
    if (c.partition === "blackhole") return;
    this.direction.bytes += chunk.length;
    const now = performance.now();
    if (c.latencyMs === 0 && c.jitterMs === 0 && c.bandwidthBytesPerSec === 0 && this.queue.length === 0) {
      this.dst.write(chunk);
      return;
    }
    const delay = Math.max(0, c.latencyMs + (c.jitterMs > 0 ? (Math.random() * 2 - 1) * c.jitterMs : 0));
    let at = Math.max(now + delay, this.lastAt);
    if (c.bandwidthBytesPerSec > 0) {
      const start = Math.max(at, this.direction.nextFree);
      this.direction.nextFree = start + (chunk.length / c.bandwidthBytesPerSec) * 1000;
      at = this.direction.nextFree;
    }
    this.lastAt = at;
    this.queue.push({ at, chunk });
    this.pending += chunk.length;
    if (this.pending > HIGH_WATER) this.src.pause();
    this.schedule();
  }

  private schedule(): void {
    if (this.timer || this.queue.length === 0) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.drain();
      },
      Math.max(0, this.queue[0]!.at - performance.now()),
    );
  }

  private drain(): void {
    const now = performance.now();
    while (this.queue.length > 0 && this.queue[0]!.at <= now + 0.5) {
      const { chunk } = this.queue.shift()!;
      this.pending -= chunk.length;
      if (!this.dst.destroyed) this.dst.write(chunk);
    }
    if (this.pending <= HIGH_WATER / 2 && this.src.isPaused()) this.src.resume();
    if (this.queue.length > 0) this.schedule();
    else if (this.ended && !this.dst.destroyed) this.dst.end();
  }

  /** Forgets everything queued (a black hole ate it). */
  discard(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
    this.pending = 0;
    if (this.src.isPaused()) this.src.resume();
  }

  close(): void {
    clearTimeout(this.timer);
  }
}
