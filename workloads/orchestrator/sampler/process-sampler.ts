import type { PhaseName } from "../../../tiers/schema/names.js";
import type { Sample } from "../../shared/cycle.js";
import { readMachineTicks, readProcStat, readRssBytes, type MachineTicks } from "../process/proc.js";
import { treeOf } from "../process/tree.js";

/**
 * CPU % and RSS of the SUT's process trees, every second (the local target's stand-in for
 * Prometheus' container metrics). CPU is the trees' user+system ticks (`/proc/<pid>/stat`) over the
 * machine's elapsed ticks per CPU (`/proc/stat`) times the cores the SUT is entitled to: 100 %
 * means all of those cores busy. RSS is the sum of `VmRSS` (`/proc/<pid>/status`); shared pages are
 * counted once per process. A process is known by pid and start time, so a restarted SUT with a
 * reused pid does not borrow the old one's ticks; while no process is up, nothing is emitted (a gap,
 * not a zero).
 */

export const CPU_SERIES = "sut.cpu_pct";
export const RSS_SERIES = "sut.rss_bytes";

export interface SamplerOptions {
  /** The root pids to follow, asked at every sample (a restarted SUT has a new pid). */
  readonly roots: () => readonly (number | undefined)[];
  readonly intervalMs?: number;
  /** Cores the SUT is entitled to; default every CPU of the machine. */
  readonly cores?: number;
  /** The phase to stamp on samples. */
  readonly phase?: () => PhaseName | null;
  readonly onSample: (sample: Sample) => void;
}

export class ProcessSampler {
  private previousTicks = new Map<string, number>();
  private previousMachine: MachineTicks | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: SamplerOptions) {}

  /** Takes a baseline now and samples every interval until `stop`. */
  start(): void {
    if (this.timer) return;
    this.sampleNow();
    this.timer = setInterval(() => this.sampleNow(), this.options.intervalMs ?? 1000);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Reads the trees now and emits `sut.cpu_pct` (over the time since the previous read) and
   * `sut.rss_bytes`. The first read only sets the CPU baseline. Returns what it emitted.
   */
  sampleNow(): Sample[] {
    const machine = readMachineTicks();
    const pids = new Set<number>();
    for (const root of this.options.roots())
      if (root !== undefined) for (const pid of treeOf(root)) pids.add(pid);
    const ticks = new Map<string, number>();
    let rss = 0;
    let seen = 0;
    for (const pid of pids) {
      const stat = readProcStat(pid);
      if (!stat || stat.state === "Z") continue;
      seen += 1;
      ticks.set(`${pid}:${stat.starttime}`, stat.utime + stat.stime);
      rss += readRssBytes(pid) ?? 0;
    }
    const previousMachine = this.previousMachine;
    const previousTicks = this.previousTicks;
    this.previousMachine = machine;
    this.previousTicks = ticks;
    if (seen === 0) return [];
    const ts = Date.now();
    const phase = this.options.phase?.() ?? null;
    const samples: Sample[] = [];
    if (previousMachine && machine.total > previousMachine.total) {
      let used = 0;
      // A process first seen now started after the previous read: all its ticks are this interval's.
      for (const [key, t] of ticks) used += t - Math.min(t, previousTicks.get(key) ?? 0);
      const perCpu = (machine.total - previousMachine.total) / machine.cpus;
      const cores = this.options.cores ?? machine.cpus;
      samples.push({ ts_ms: ts, phase, series: CPU_SERIES, value: (used / (perCpu * cores)) * 100 });
    }
    samples.push({ ts_ms: ts, phase, series: RSS_SERIES, value: rss });
    for (const s of samples) this.options.onSample(s);
    return samples;
  }
}
