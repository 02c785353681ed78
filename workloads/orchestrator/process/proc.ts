import { readdirSync, readFileSync } from "node:fs";

/**
 * Readers for Linux `/proc`: one process's CPU ticks, parent and state (`/proc/<pid>/stat`), its
 * resident memory (`/proc/<pid>/status`), the machine's CPU ticks (`/proc/stat`), and the
 * descendants of a process. Every reader returns `undefined` for a process that is gone: a process
 * can exit between listing and reading, and that is not an error.
 */

export interface ProcStat {
  readonly pid: number;
  readonly comm: string;
  /** R running, S sleeping, D disk sleep, T stopped, Z zombie, … */
  readonly state: string;
  readonly ppid: number;
  readonly pgrp: number;
  /** User and system CPU time, in clock ticks (USER_HZ, the unit of `/proc/stat`). */
  readonly utime: number;
  readonly stime: number;
  /** Start time after boot, in clock ticks: with the pid, identifies one process across pid reuse. */
  readonly starttime: number;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/**
 * Parses `/proc/<pid>/stat`. The command name is in parentheses and may itself contain spaces and
 * parentheses, so the fields are counted from the last `)`.
 */
export function parseProcStat(text: string): ProcStat | undefined {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < open) return undefined;
  const pid = Number(text.slice(0, open).trim());
  const rest = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  // rest[0] is field 3 (state); field n is rest[n - 3].
  const field = (n: number): number => Number(rest[n - 3]);
  const stat: ProcStat = {
    pid,
    comm: text.slice(open + 1, close),
    state: rest[0] ?? "?",
    ppid: field(4),
    pgrp: field(5),
    utime: field(14),
    stime: field(15),
    starttime: field(22),
  };
  return Number.isInteger(stat.pid) && Number.isFinite(stat.utime) && Number.isFinite(stat.starttime)
    ? stat
    : undefined;
}

export function readProcStat(pid: number): ProcStat | undefined {
  const text = readText(`/proc/${pid}/stat`);
  return text === undefined ? undefined : parseProcStat(text);
}

/** Resident set size in bytes (`VmRSS` of `/proc/<pid>/status`); undefined for a gone process or a kernel thread. */
export function readRssBytes(pid: number): number | undefined {
  const text = readText(`/proc/${pid}/status`);
  if (text === undefined) return undefined;
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(text);
  return m ? Number(m[1]) * 1024 : undefined;
}

export interface MachineTicks {
  /** Sum of every CPU's ticks (user, nice, system, idle, iowait, irq, softirq, steal). */
  readonly total: number;
  /** Number of CPUs listed (`cpuN` lines). */
  readonly cpus: number;
}

/** Parses `/proc/stat`'s aggregate `cpu` line. Guest time is already inside user time, so it is not added. */
export function parseMachineTicks(text: string): MachineTicks | undefined {
  const line = /^cpu\s+(.*)$/m.exec(text);
  if (!line) return undefined;
  const fields = line[1]!.trim().split(/\s+/).slice(0, 8).map(Number);
  if (fields.length < 4 || fields.some((n) => !Number.isFinite(n))) return undefined;
  const cpus = (text.match(/^cpu\d+\s/gm) ?? []).length;
  return { total: fields.reduce((a, b) => a + b, 0), cpus: Math.max(1, cpus) };
}

export function readMachineTicks(): MachineTicks {
  const ticks = parseMachineTicks(readText("/proc/stat") ?? "");
  if (!ticks) throw new Error("cannot read /proc/stat: the sampler needs Linux /proc");
  return ticks;
}

/** Every pid in /proc now. */
export function listPids(): number[] {
  return readdirSync("/proc")
    .filter((n) => /^\d+$/.test(n))
    .map(Number);
}

/** The processes below `rootPid` (children, grandchildren, …), not including it; breadth first. */
export function descendantsOf(rootPid: number): number[] {
  const children = new Map<number, number[]>();
  for (const pid of listPids()) {
    const stat = readProcStat(pid);
    if (!stat) continue;
    const list = children.get(stat.ppid);
    if (list) list.push(pid);
    else children.set(stat.ppid, [pid]);
  }
  const out: number[] = [];
  const queue = [rootPid];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      if (out.includes(child)) continue;
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}

/** True while the process exists and is not a zombie (a zombie has exited and only waits to be reaped). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = readProcStat(pid);
  return stat !== undefined && stat.state !== "Z" && stat.state !== "X";
}
