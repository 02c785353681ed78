import { createHash } from "node:crypto";
import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { scanTarGz, type ArchiveScan, type EntrySink } from "./archive-reader.js";
import { BundleError } from "./errors.js";
import { MANIFEST_FILE, SIGNATURE_FILE } from "./layout.js";
import type { BundleLimits } from "./limits.js";
import { SIGNATURE_BYTES } from "./keys.js";

export interface ExtractedFile {
  readonly size: number;
  readonly sha256: string;
}

export interface Extraction extends ArchiveScan {
  /** manifest.json's exact bytes, or undefined when the archive has none. */
  readonly manifestBytes: Buffer | undefined;
  readonly signature: Buffer | undefined;
  /** Every other entry, written under `dir`, with the size and sha256 of what was written. */
  readonly files: ReadonlyMap<string, ExtractedFile>;
}

/** Collects a small entry in memory, refusing to grow past `limit` bytes. */
class MemorySink implements EntrySink {
  readonly chunks: Buffer[] = [];
  private size = 0;
  done: Buffer | undefined;
  constructor(
    private readonly limit: number,
    private readonly onTooLarge: () => BundleError,
  ) {}
  write(chunk: Uint8Array): void {
    this.size += chunk.length;
    if (this.size > this.limit) throw this.onTooLarge();
    this.chunks.push(Buffer.from(chunk));
  }
  end(): void {
    this.done = Buffer.concat(this.chunks);
  }
}

/**
 * Streams the archive once into `dir` (a fresh private directory): manifest.json and manifest.sig
 * stay in memory, every other entry becomes a file whose size and sha256 are taken from the very
 * bytes written. Paths were already checked by the scanner; a path that collides with a directory
 * another entry needs is refused here.
 */
export async function extractBundle(archive: string, dir: string, limits: BundleLimits): Promise<Extraction> {
  let manifest: MemorySink | undefined;
  let signature: MemorySink | undefined;
  const files = new Map<string, ExtractedFile>();
  let openFd: number | undefined;
  const scanning = scanTarGz(archive, limits, (header) => {
    if (header.path === MANIFEST_FILE) {
      manifest = new MemorySink(
        limits.maxManifestBytes,
        () =>
          new BundleError(
            "malformed_manifest",
            `manifest.json is larger than ${limits.maxManifestBytes} bytes`,
          ),
      );
      return manifest;
    }
    if (header.path === SIGNATURE_FILE) {
      signature = new MemorySink(
        SIGNATURE_BYTES,
        () =>
          new BundleError(
            "bad_signature",
            `manifest.sig is ${header.size} bytes, an ed25519 signature is 64`,
          ),
      );
      return signature;
    }
    const target = join(dir, header.path);
    let fd: number;
    try {
      mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
      fd = openSync(target, "wx", 0o600);
      openFd = fd;
    } catch (error) {
      throw new BundleError(
        "unsafe_path",
        `entry ${JSON.stringify(header.path)} collides with another entry (${(error as NodeJS.ErrnoException).code})`,
        { cause: error },
      );
    }
    const hash = createHash("sha256");
    let size = 0;
    return {
      write(chunk) {
        hash.update(chunk);
        size += chunk.length;
        let at = 0;
        while (at < chunk.length) at += writeSync(fd, chunk, at);
      },
      end() {
        closeSync(fd);
        openFd = undefined;
        files.set(header.path, { size, sha256: hash.digest("hex") });
      },
    };
  });
  let scan: ArchiveScan;
  try {
    scan = await scanning;
  } finally {
    if (openFd !== undefined) closeSync(openFd);
  }
  return { ...scan, manifestBytes: manifest?.done, signature: signature?.done, files };
}
