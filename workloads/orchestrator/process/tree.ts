import { setTimeout as sleep } from "node:timers/promises";
import { descendantsOf, isAlive, readProcStat } from "./proc.js";

/**
 * Signals and stops whole process trees: a tool such as stress-ng forks workers, and a shell may
 * leave background children; killing only the pid we started would leave them running. A tree is
 * the process group of a process we started detached (it leads its own group) plus every
 * descendant found in /proc (which catches children that moved to a group of their own).
 */

function trySignal(target: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(target, signal);
    return true;
  } catch {
    return false;
  }
}

/** The root and its descendants, as they are now. */
export function treeOf(rootPid: number): number[] {
  return [rootPid, ...descendantsOf(rootPid)];
}

/**
 * Sends `signal` to the root's process group (when the root leads one) and to every process in
 * `pids` (default: the tree as it is now). Returns the pids that were signalled.
 */
export function signalTree(
  rootPid: number,
  signal: NodeJS.Signals,
  pids: readonly number[] = treeOf(rootPid),
  leadsGroup: boolean = readProcStat(rootPid)?.pgrp === rootPid,
): number[] {
  if (leadsGroup) trySignal(-rootPid, signal);
  return pids.filter((pid) => trySignal(pid, signal));
}

async function waitGone(pids: readonly number[], deadlineMs: number): Promise<number[]> {
  let alive = pids.filter(isAlive);
  while (alive.length > 0 && Date.now() < deadlineMs) {
    await sleep(25);
    alive = alive.filter(isAlive);
  }
  return alive;
}

/**
 * Stops a tree: SIGTERM (and SIGCONT, so a stopped process can act on it) to every member, then
 * SIGKILL to whatever is still alive after `graceMs`. Resolves once every member is gone; returns
 * the pids that needed SIGKILL.
 */
export async function terminateTree(rootPid: number, graceMs = 2000): Promise<number[]> {
  const pids = treeOf(rootPid);
  const leadsGroup = readProcStat(rootPid)?.pgrp === rootPid;
  signalTree(rootPid, "SIGTERM", pids, leadsGroup);
  signalTree(rootPid, "SIGCONT", pids, leadsGroup);
  const stubborn = await waitGone(pids, Date.now() + graceMs);
  if (stubborn.length === 0) return [];
  signalTree(rootPid, "SIGKILL", [...stubborn, ...descendantsOf(rootPid)], leadsGroup);
  await waitGone(stubborn, Date.now() + 5000);
  return stubborn;
}

/** Kills whatever is left of a group whose leader has exited (background children holding pipes open). */
export function killGroup(groupId: number): void {
  trySignal(-groupId, "SIGKILL");
}

/** A member of a process tree as noted at one moment: start time tells it apart from a reused pid. */
export interface TreeMember {
  readonly pid: number;
  readonly pgrp: number;
  readonly starttime: number;
}

/**
 * The root's descendants now, with their groups and start times. Taken before the root is killed,
 * it still finds them afterwards, when they have been re-parented and are no longer descendants.
 */
export function snapshotTree(rootPid: number): TreeMember[] {
  return descendantsOf(rootPid).flatMap((pid) => {
    const stat = readProcStat(pid);
    return stat ? [{ pid, pgrp: stat.pgrp, starttime: stat.starttime }] : [];
  });
}

/** SIGKILL to each noted member that is still the same process (and to the group it leads). */
export function killSnapshot(members: readonly TreeMember[]): void {
  for (const m of members) {
    if (readProcStat(m.pid)?.starttime !== m.starttime) continue;
    trySignal(m.pgrp === m.pid ? -m.pid : m.pid, "SIGKILL");
  }
}
