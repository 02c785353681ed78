import { appendFile, mkdir } from "node:fs/promises";
import { join } from "node:path";

/**
 * The SUT's storage: `/work?write=N` appends N bytes to `<dir>/data/journal.log`, opening the file
 * for every write (no descriptor is held), so a fault on the path shows on the next request — the
 * way Chaos Mesh's IOChaos makes a path's operations fail.
 */
export class Journal {
  readonly dataDir: string;
  readonly file: string;

  constructor(readonly dir: string) {
    this.dataDir = join(dir, "data");
    this.file = join(this.dataDir, "journal.log");
  }

  /** Creates the data directory; a failure is reported, not thrown (the SUT starts anyway). */
  async init(): Promise<string | undefined> {
    try {
      await mkdir(this.dataDir, { recursive: true });
      return undefined;
    } catch (error) {
      return (error as Error).message;
    }
  }

  async write(bytes: number): Promise<void> {
    await appendFile(this.file, Buffer.alloc(bytes, 0x2e));
  }
}
