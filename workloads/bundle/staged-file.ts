import { createHash, type Hash } from "node:crypto";
import { open, type FileHandle } from "node:fs/promises";

const FLUSH_CHARS = 1 << 20;

export interface StagedFileInfo {
  readonly size: number;
  readonly sha256: string;
}

/**
 * A file being written for a bundle: text is gathered into ~1 MB writes, and its size and sha256
 * are computed over exactly the bytes written, so nothing is read back to checksum it.
 */
export class StagedFile {
  private readonly hash: Hash = createHash("sha256");
  private parts: string[] = [];
  private pending = 0;
  private size = 0;
  lines = 0;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
  ) {}

  static async create(path: string): Promise<StagedFile> {
    return new StagedFile(path, await open(path, "wx", 0o600));
  }

  /** Appends one line (a newline is added). Resolves at once unless a write is due. */
  async writeLine(text: string): Promise<void> {
    this.parts.push(text, "\n");
    this.pending += text.length + 1;
    this.lines++;
    if (this.pending >= FLUSH_CHARS) await this.flush();
  }

  async writeBytes(bytes: Uint8Array): Promise<void> {
    await this.flush();
    this.hash.update(bytes);
    this.size += bytes.length;
    await this.handle.write(bytes);
  }

  private async flush(): Promise<void> {
    if (this.pending === 0) return;
    const buf = Buffer.from(this.parts.join(""), "utf8");
    this.parts = [];
    this.pending = 0;
    this.hash.update(buf);
    this.size += buf.length;
    await this.handle.write(buf);
  }

  async close(): Promise<StagedFileInfo> {
    await this.flush();
    await this.handle.close();
    return { size: this.size, sha256: this.hash.digest("hex") };
  }

  /** Closes without caring about the content (the bundle is being abandoned). */
  async discard(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }
}
