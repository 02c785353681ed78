import { createHash } from "node:crypto";
import { constants } from "node:fs";
import { open as openFile } from "node:fs/promises";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { describeKind } from "../../tiers/config/read-file.js";
import { BundleError } from "./errors.js";
import { SealTap } from "./seal.js";
import { FORMAT_BOUNDS, type BundleLimits } from "./limits.js";
import { BLOCK, decodeTarHeader, isZeroBlock, paddingFor, TarFormatError, type TarHeader } from "./tar.js";

/** Where one entry's bytes go. Synchronous so the parser needs no backpressure of its own. */
export interface EntrySink {
  write(chunk: Uint8Array): void;
  end(): void;
}

export interface ArchiveScan {
  readonly compressedBytes: number;
  readonly archiveSha256: string;
  readonly uncompressedBytes: number;
  readonly entries: number;
  /** The file's first bytes (its sealed gzip header) and the sha256 of the bytes after them. */
  readonly seal: { readonly header: Buffer; readonly bodySha256: Buffer };
}

const SAFE_SEGMENT = /^[A-Za-z0-9._-]+$/;
const MAX_PATH_BYTES = FORMAT_BOUNDS.maxPathBytes;

/** Refuses any path that could land outside the extraction directory or surprise a file system. */
export function checkEntryPath(path: string): void {
  if (path.startsWith("/") || path.startsWith("\\") || /^[A-Za-z]:/.test(path))
    throw new BundleError("absolute_path", `entry ${JSON.stringify(path)} has an absolute path`);
  const segments = path.split(/[/\\]/);
  if (segments.includes(".."))
    throw new BundleError("path_traversal", `entry ${JSON.stringify(path)} has a ".." component`);
  if (
    path === "" ||
    Buffer.byteLength(path) > MAX_PATH_BYTES ||
    path.includes("\\") ||
    segments.some((s) => s === "." || !SAFE_SEGMENT.test(s))
  )
    throw new BundleError(
      "unsafe_path",
      `entry ${JSON.stringify(path)} is not a plain relative path of [A-Za-z0-9._-] segments (at most ${MAX_PATH_BYTES} bytes)`,
    );
}

/** Maps a typeflag to the refusal it earns; regular files (`0` and the old `\0`) pass. */
function checkEntryType(header: TarHeader): void {
  const name = JSON.stringify(header.path);
  switch (header.typeflag) {
    case "0":
    case "\0":
      return;
    case "1":
      throw new BundleError(
        "hard_link",
        `entry ${name} is a hard link to ${JSON.stringify(header.linkname)}`,
      );
    case "2":
      throw new BundleError(
        "symlink",
        `entry ${name} is a symbolic link to ${JSON.stringify(header.linkname)}`,
      );
    case "3":
    case "4":
    case "6":
      throw new BundleError(
        "special_file",
        `entry ${name} is a device file or FIFO (type ${header.typeflag})`,
      );
    default:
      throw new BundleError(
        "unsupported_entry",
        `entry ${name} has type ${JSON.stringify(header.typeflag)}; a bundle holds regular files only`,
      );
  }
}

/** Incremental ustar parser with the bundle's limits and refusals. */
class TarParser {
  private readonly header = Buffer.alloc(BLOCK);
  private headerFill = 0;
  private dataLeft = 0;
  private padLeft = 0;
  private sink: EntrySink | undefined;
  private current: TarHeader | undefined;
  private zeroBlocks = 0;
  private readonly seen = new Set<string>();
  entries = 0;
  uncompressed = 0;
  /** Bytes of the inflated stream the parser has consumed (≤ `uncompressed`). */
  private offset = 0;

  constructor(
    private readonly limits: BundleLimits,
    private readonly open: (header: TarHeader) => EntrySink,
  ) {}

  push(chunk: Buffer): void {
    this.uncompressed += chunk.length;
    if (this.uncompressed > this.limits.maxUncompressedBytes)
      throw new BundleError(
        "size_limit_exceeded",
        `the archive inflates beyond ${this.limits.maxUncompressedBytes} bytes (gzip bomb?)`,
      );
    let at = 0;
    while (at < chunk.length) {
      const before = at;
      if (this.dataLeft > 0) {
        const n = Math.min(this.dataLeft, chunk.length - at);
        this.sink!.write(chunk.subarray(at, at + n));
        this.dataLeft -= n;
        at += n;
        if (this.dataLeft === 0) this.endEntry();
      } else if (this.padLeft > 0) {
        const n = Math.min(this.padLeft, chunk.length - at);
        this.padLeft -= n;
        at += n;
      } else {
        const n = Math.min(BLOCK - this.headerFill, chunk.length - at);
        chunk.copy(this.header, this.headerFill, at, at + n);
        this.headerFill += n;
        at += n;
        if (this.headerFill === BLOCK) {
          this.headerFill = 0;
          this.offset += at - before;
          this.onBlock();
          continue;
        }
      }
      this.offset += at - before;
    }
  }

  private onBlock(): void {
    if (isZeroBlock(this.header)) {
      this.zeroBlocks++;
      return;
    }
    if (this.zeroBlocks > 0)
      throw new BundleError("corrupt_tar", "data follows a zero block (the end-of-archive marker)");
    let header: TarHeader;
    try {
      header = decodeTarHeader(this.header);
    } catch (error) {
      if (error instanceof TarFormatError)
        throw new BundleError("corrupt_tar", `entry ${this.entries + 1}: ${error.message}`, { cause: error });
      throw error;
    }
    this.entries++;
    if (this.entries > this.limits.maxEntries)
      throw new BundleError(
        "too_many_entries",
        `the archive has more than ${this.limits.maxEntries} entries`,
      );
    checkEntryPath(header.path);
    checkEntryType(header);
    if (this.seen.has(header.path))
      throw new BundleError("duplicate_entry", `entry ${JSON.stringify(header.path)} appears twice`);
    this.seen.add(header.path);
    if (header.size > this.limits.maxEntryBytes)
      throw new BundleError(
        "entry_too_large",
        `entry ${JSON.stringify(header.path)} is ${header.size} bytes; the limit is ${this.limits.maxEntryBytes}`,
      );
    if (this.offset + header.size > this.limits.maxUncompressedBytes)
      throw new BundleError(
        "size_limit_exceeded",
        `entry ${JSON.stringify(header.path)} (${header.size} bytes) would take the archive beyond ${this.limits.maxUncompressedBytes} bytes`,
      );
    this.current = header;
    this.sink = this.open(header);
    this.dataLeft = header.size;
    if (header.size === 0) this.endEntry();
  }

  private endEntry(): void {
    this.sink!.end();
    this.sink = undefined;
    this.padLeft = paddingFor(this.current!.size);
    this.current = undefined;
  }

  finish(): void {
    if (this.current)
      throw new BundleError(
        "truncated",
        `the archive ends inside entry ${JSON.stringify(this.current.path)} (${this.dataLeft} bytes missing)`,
      );
    if (this.zeroBlocks < 2 || this.headerFill !== 0 || this.padLeft > 0)
      throw new BundleError("truncated", "the archive ends before its end-of-archive marker");
  }
}

function zlibRefusal(error: unknown): BundleError | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "Z_BUF_ERROR")
    return new BundleError("truncated", "the gzip stream ends early (unexpected end of file)", {
      cause: error,
    });
  if (typeof code === "string" && code.startsWith("Z_"))
    return new BundleError("corrupt_gzip", `the gzip stream is damaged: ${(error as Error).message}`, {
      cause: error,
    });
  return undefined;
}

export interface ScanOptions {
  /**
   * Called with the file's first `SEAL_HEADER_BYTES` bytes before any of them is inflated (or
   * with fewer at the end of a shorter file); throwing stops the scan there.
   */
  readonly onSealHeader?: (header: Buffer) => void;
  /** Stops the scan (an `AbortError`): an interrupted import. */
  readonly signal?: AbortSignal;
}

/**
 * Streams `path` (gzip → ustar) once, handing each regular-file entry to a sink from `open`.
 * Every limit and refusal applies while streaming, before the entry's data is read.
 */
export async function scanTarGz(
  path: string,
  limits: BundleLimits,
  open: (header: TarHeader) => EntrySink,
  options: ScanOptions = {},
): Promise<ArchiveScan> {
  // Opened without blocking and checked on the descriptor: a FIFO is refused, not waited on.
  let handle;
  try {
    handle = await openFile(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new BundleError("unreadable", `the file cannot be opened (${code})`, { cause: error });
  }
  let size: number;
  try {
    const info = await handle.stat();
    if (!info.isFile())
      throw new BundleError("not_a_file", `the path is ${describeKind(info)}, not a bundle file`);
    size = info.size;
  } catch (error) {
    await handle.close();
    throw error;
  }
  if (size > limits.maxCompressedBytes) {
    await handle.close();
    throw new BundleError(
      "archive_too_large",
      `the file is ${size} bytes; the limit is ${limits.maxCompressedBytes}`,
    );
  }
  const hash = createHash("sha256");
  const tap = new SealTap();
  let compressed = 0;
  let headerSeen = false;
  const sealHeader = (): void => {
    headerSeen = true;
    options.onSealHeader?.(tap.header.subarray(0, Math.min(tap.header.length, compressed)));
  };
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      compressed += chunk.length;
      hash.update(chunk);
      tap.push(chunk);
      if (compressed > limits.maxCompressedBytes)
        return done(
          new BundleError("archive_too_large", `the file grew beyond ${limits.maxCompressedBytes} bytes`),
        );
      try {
        // Before gunzip sees a byte: an unsealed or untrusted file costs nothing to refuse.
        if (!headerSeen && tap.complete) sealHeader();
      } catch (error) {
        return done(error as Error);
      }
      done(null, chunk);
    },
    flush(done) {
      try {
        if (!headerSeen) sealHeader();
        done();
      } catch (error) {
        done(error as Error);
      }
    },
  });
  const parser = new TarParser(limits, open);
  // pipeline() may report the AbortError of a stream it tore down instead of the error that made
  // it tear down; keep the first real one.
  let first: unknown;
  const gunzip = createGunzip();
  gunzip.on("error", (error) => (first ??= error));
  counter.on("error", (error) => (first ??= error));
  try {
    await pipeline(
      handle.createReadStream(),
      counter,
      gunzip,
      async (source: AsyncIterable<Buffer>) => {
        try {
          for await (const chunk of source) parser.push(chunk);
        } catch (error) {
          first ??= error;
          throw error;
        }
      },
      { signal: options.signal },
    );
  } catch (error) {
    if (options.signal?.aborted) throw error;
    const cause = first ?? error;
    throw zlibRefusal(cause) ?? cause;
  }
  parser.finish();
  return {
    compressedBytes: compressed,
    archiveSha256: hash.digest("hex"),
    uncompressedBytes: parser.uncompressed,
    entries: parser.entries,
    seal: {
      header: tap.header.subarray(0, Math.min(tap.header.length, compressed)),
      bodySha256: tap.digest(),
    },
  };
}
