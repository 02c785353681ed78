import { lstat, mkdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { FaultInjector } from "./injector.js";

/**
 * disk_failure on the SUT's storage path: the data directory is moved aside and a plain file put
 * in its place, so every open under it fails with ENOTDIR until the undo moves the directory back,
 * contents intact. Like Chaos Mesh's IOChaos errno fault it makes the path's operations fail from
 * outside the SUT (no cooperation, and root cannot bypass it as it could a chmod). It does not
 * simulate slow or partial IO, errors on descriptors the SUT already holds open, or corruption.
 */
export class DiskFailureInjector implements FaultInjector {
  readonly scenario = "disk_failure";
  readonly dataDir: string;
  private readonly held: string;

  /** @param storageDir the SUT's `--storage` directory (its data lives in `<storageDir>/data`) */
  constructor(storageDir: string | undefined) {
    this.dataDir = storageDir === undefined ? "" : join(storageDir, "data");
    this.held = `${this.dataDir}.held-by-disk-failure`;
  }

  unavailable(): string | undefined {
    return this.dataDir === "" ? "the SUT has no storage path" : undefined;
  }

  async apply(): Promise<Record<string, unknown>> {
    await mkdir(this.dataDir, { recursive: true });
    await rename(this.dataDir, this.held);
    await writeFile(this.dataDir, "disk_failure: this path is failed on purpose by the chaos phase\n");
    return { path: this.dataDir, errno: "ENOTDIR" };
  }

  async undo(): Promise<Record<string, unknown>> {
    const now = await lstat(this.dataDir).then(
      (s) => (s.isDirectory() ? "directory" : "file"),
      () => "missing",
    );
    const held = await lstat(this.held).then(
      () => true,
      () => false,
    );
    if (!held) return { restored: false };
    let setAside: string | undefined;
    if (now === "file") await rm(this.dataDir, { force: true });
    if (now === "directory") {
      // Something recreated the directory meanwhile (a partial apply and a SUT restart): keep it aside.
      setAside = `${this.dataDir}.written-during-failure-${Date.now()}`;
      await rename(this.dataDir, setAside);
    }
    await rename(this.held, this.dataDir);
    return { restored: true, path: this.dataDir, ...(setAside ? { set_aside: setAside } : {}) };
  }
}
