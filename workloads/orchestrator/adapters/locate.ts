import { access, constants, stat } from "node:fs/promises";
import { delimiter, isAbsolute, join, resolve } from "node:path";
import { runToCompletion } from "../process/spawn.js";
import type { ProcessAdapter } from "./adapter.js";

/**
 * Finding a tool and its version before a run: a missing binary is a `skipped` Result ("tool not
 * installed: …"), not a crash. Versions are asked once per binary path and remembered.
 */

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    if (!(await stat(path)).isFile()) return false;
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The absolute path of `name` (a path, or a name looked up on `pathEnv`), or undefined. */
export async function findExecutable(
  name: string,
  pathEnv: string = process.env.PATH ?? "",
): Promise<string | undefined> {
  if (name.includes("/")) {
    const path = isAbsolute(name) ? name : resolve(name);
    return (await isExecutableFile(path)) ? path : undefined;
  }
  for (const dir of pathEnv.split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, name);
    if (await isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

const versions = new Map<string, Promise<string | null>>();

/** The tool's version (`iperf3 --version` → "3.12"), or null when it has none or says nothing readable. */
export function detectVersion(adapter: ProcessAdapter, executablePath: string): Promise<string | null> {
  const args = adapter.versionArgs;
  if (args === null) return Promise.resolve(null);
  const key = `${executablePath}\0${args.join(" ")}`;
  let version = versions.get(key);
  if (!version) {
    version = runToCompletion(
      { file: executablePath, args },
      { timeoutMs: 5000, maxOutputBytes: 1024 * 1024 },
    ).then((done) => {
      const text = `${Buffer.from(done.stdout).toString("utf8")}\n${Buffer.from(done.stderr).toString("utf8")}`;
      return adapter.parseVersion(text);
    });
    versions.set(key, version);
  }
  return version;
}
