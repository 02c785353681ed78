import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Private directories a bundle is extracted into while it is checked and imported. Each is named
 * after the process that owns it (`tiers-import-<pid>-<start time>-<random>`), so a later reader
 * can tell one left behind by a process that died — killed with SIGKILL, which no handler sees —
 * from one in use, and sweeps it before it makes its own.
 */
export const STAGING_PREFIX = "tiers-import-";
const NAME = /^tiers-import-(\d+)-(\d+)-[0-9a-f]+$/;

/** A process's start time in clock ticks since boot (`/proc/<pid>/stat` field 22), or undefined. */
function startTimeOf(pid: number | "self"): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** True when the directory's owner is gone (or its pid now belongs to a process that started later). */
function abandoned(name: string): boolean {
  const m = NAME.exec(name);
  if (!m) return false;
  const pid = Number(m[1]);
  if (pid === process.pid) return false;
  if (!alive(pid)) return true;
  const started = startTimeOf(pid);
  return started !== undefined && started !== m[2];
}

/** Removes staging directories in `parent` whose process is gone; returns their names. */
export async function sweepStaging(parent: string = tmpdir()): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(parent);
  } catch {
    return [];
  }
  const swept: string[] = [];
  for (const name of names.filter((n) => n.startsWith(STAGING_PREFIX) && abandoned(n))) {
    try {
      await rm(join(parent, name), { recursive: true, force: true });
      swept.push(name);
    } catch {
      // another user's, or already gone
    }
  }
  return swept;
}

/** Sweeps `parent`, then makes this process's private staging directory (0700) in it. */
export async function makeStagingDir(parent: string = tmpdir()): Promise<string> {
  await sweepStaging(parent);
  await mkdir(parent, { recursive: true });
  const dir = join(
    parent,
    `${STAGING_PREFIX}${process.pid}-${startTimeOf("self") ?? "0"}-${randomBytes(6).toString("hex")}`,
  );
  await mkdir(dir, { mode: 0o700 });
  return dir;
}
