import { createHash } from "node:crypto";
import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { scanTarGz, type ArchiveScan, type EntrySink } from "./archive-reader.js";
import { BundleError } from "./errors.js";
import { MANIFEST_FILE, SIGNATURE_FILE } from "./layout.js";
import type { BundleLimits } from "./limits.js";
import { SIGNATURE_BYTES } from "./keys.js";
import type { TarHeader } from "./tar.js";

export interface ExtractedFile {
  readonly size: number;
  readonly sha256: string;
}

/** What the manifest lists, once its signature holds: each file's size and sha256. */
export type ListedFiles = ReadonlyMap<string, { readonly size: number; readonly sha256: string }>;

export interface ExtractHooks {
  /** The file's first bytes, before anything is inflated (`checkSealHeader` and the keyring). */
  readonly onSealHeader: (header: Buffer) => void;
  /**
   * manifest.json and manifest.sig, in memory, before any other entry is inflated: verifies the
   * key and the signature and returns what the manifest lists. Throws to refuse.
   */
  readonly onManifest: (manifest: Buffer, signature: Buffer) => ListedFiles;
  /** The largest size a listed file may have (some are read into memory). */
  readonly maxSizeOf: (path: string) => number;
  /** Once the whole file was read, before the file list is checked for missing files (the seal). */
  readonly onScanned?: (scan: ArchiveScan) => void;
  readonly signal?: AbortSignal;
}

export interface Extraction extends ArchiveScan {
  readonly manifestBytes: Buffer;
  readonly signature: Buffer;
  /** Every listed file, written under `dir`, with the size and sha256 of what was written. */
  readonly files: ReadonlyMap<string, ExtractedFile>;
}

/** Collects a small entry in memory, refusing to grow past `limit` bytes. */
class MemorySink implements EntrySink {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  done: Buffer | undefined;
  constructor(
    private readonly limit: number,
    private readonly onTooLarge: () => BundleError,
    private readonly onEnd?: (bytes: Buffer) => void,
  ) {}
  write(chunk: Uint8Array): void {
    this.size += chunk.length;
    if (this.size > this.limit) throw this.onTooLarge();
    this.chunks.push(Buffer.from(chunk));
  }
  end(): void {
    this.done = Buffer.concat(this.chunks);
    this.onEnd?.(this.done);
  }
}

const quoted = (path: string) => JSON.stringify(path);

/**
 * Streams the archive once into `dir` (a fresh private directory). The first entry must be
 * manifest.json and the second manifest.sig, both kept in memory; `hooks.onManifest` verifies them
 * before a byte of any other entry is inflated. Every later entry must be listed, with the size
 * the manifest gives, within its size bound; it is written to a file whose sha256 is taken from
 * the very bytes written and compared as the entry ends. Paths were already checked by the scanner.
 */
export async function extractBundle(
  archive: string,
  dir: string,
  limits: BundleLimits,
  hooks: ExtractHooks,
): Promise<Extraction> {
  let manifest: MemorySink | undefined;
  let signature: MemorySink | undefined;
  let listed: ListedFiles | undefined;
  const files = new Map<string, ExtractedFile>();
  let openFd: number | undefined;
  let index = 0;

  const openListed = (header: TarHeader, want: { size: number; sha256: string }): EntrySink => {
    if (header.size !== want.size)
      throw new BundleError(
        "size_mismatch",
        `${header.path} is ${header.size} bytes in the archive, the manifest says ${want.size}`,
      );
    const bound = hooks.maxSizeOf(header.path);
    if (header.size > bound)
      throw new BundleError(
        "entry_too_large",
        `${header.path} is ${header.size} bytes; the limit for it is ${bound}`,
      );
    const target = join(dir, header.path);
    let fd: number;
    try {
      mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
      fd = openSync(target, "wx", 0o600);
      openFd = fd;
    } catch (error) {
      throw new BundleError(
        "unsafe_path",
        `entry ${quoted(header.path)} collides with another entry (${(error as NodeJS.ErrnoException).code})`,
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
        const sha256 = hash.digest("hex");
        if (sha256 !== want.sha256)
          throw new BundleError(
            "checksum_mismatch",
            `${header.path} has sha256 ${sha256.slice(0, 16)}…, the manifest ${want.sha256.slice(0, 16)}…`,
          );
        files.set(header.path, { size, sha256 });
      },
    };
  };

  const scanning = scanTarGz(
    archive,
    limits,
    (header) => {
      const position = index++;
      if (position === 0) {
        if (header.path !== MANIFEST_FILE)
          throw new BundleError(
            "missing_manifest",
            `the archive's first entry is ${quoted(header.path)}; a bundle starts with ${MANIFEST_FILE}`,
          );
        manifest = new MemorySink(
          limits.maxManifestBytes,
          () =>
            new BundleError(
              "malformed_manifest",
              `${MANIFEST_FILE} is larger than ${limits.maxManifestBytes} bytes`,
            ),
        );
        return manifest;
      }
      if (position === 1) {
        if (header.path !== SIGNATURE_FILE)
          throw new BundleError(
            "missing_signature",
            `the archive's second entry is ${quoted(header.path)}; ${SIGNATURE_FILE} follows ${MANIFEST_FILE}`,
          );
        signature = new MemorySink(
          SIGNATURE_BYTES,
          () =>
            new BundleError(
              "bad_signature",
              `${SIGNATURE_FILE} is ${header.size} bytes, an ed25519 signature is ${SIGNATURE_BYTES}`,
            ),
          (sig) => (listed = hooks.onManifest(manifest!.done!, sig)),
        );
        return signature;
      }
      if (header.path === MANIFEST_FILE || header.path === SIGNATURE_FILE)
        throw new BundleError("duplicate_entry", `entry ${quoted(header.path)} appears twice`);
      const want = listed!.get(header.path);
      if (!want)
        throw new BundleError("unlisted_file", `${header.path} is in the archive but not in the manifest`);
      return openListed(header, want);
    },
    { onSealHeader: hooks.onSealHeader, ...(hooks.signal ? { signal: hooks.signal } : {}) },
  );
  let scan: ArchiveScan;
  try {
    scan = await scanning;
  } finally {
    if (openFd !== undefined) closeSync(openFd);
  }
  if (!manifest?.done) throw new BundleError("missing_manifest", `${MANIFEST_FILE} is not in the archive`);
  if (!signature?.done) throw new BundleError("missing_signature", `${SIGNATURE_FILE} is not in the archive`);
  hooks.onScanned?.(scan);
  for (const path of listed!.keys())
    if (!files.has(path))
      throw new BundleError("missing_file", `${path} is listed in the manifest but not in the archive`);
  return { ...scan, manifestBytes: manifest.done, signature: signature.done, files };
}
