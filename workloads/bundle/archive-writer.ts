import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { encodeTarHeader, END_OF_ARCHIVE, paddingFor, type TarHeaderInput } from "./tar.js";

/** One archive entry: a header and its data, either in memory or in a file of exactly `size` bytes. */
export interface ArchiveEntry {
  readonly header: TarHeaderInput;
  readonly data?: Uint8Array;
  readonly file?: string;
}

async function* tarStream(entries: readonly ArchiveEntry[]): AsyncGenerator<Uint8Array> {
  for (const entry of entries) {
    yield encodeTarHeader(entry.header);
    if (entry.data !== undefined) {
      yield entry.data;
    } else if (entry.file !== undefined) {
      let copied = 0;
      for await (const chunk of createReadStream(entry.file) as AsyncIterable<Buffer>) {
        copied += chunk.length;
        yield chunk;
      }
      if (copied !== entry.header.size)
        throw new Error(
          `${entry.file} changed while it was archived (${copied} bytes, expected ${entry.header.size})`,
        );
    }
    const pad = paddingFor(entry.header.size);
    if (pad > 0) yield Buffer.alloc(pad);
  }
  yield END_OF_ARCHIVE;
}

/**
 * Writes entries, in the order given, as a gzip'd ustar archive at `path`: first to a temporary
 * sibling, flushed to disk, then renamed, so `path` is either absent or complete.
 */
export async function writeTarGz(
  path: string,
  entries: readonly ArchiveEntry[],
  gzipLevel = 6,
): Promise<number> {
  const partial = `${path}.partial-${randomBytes(4).toString("hex")}`;
  try {
    const out = createWriteStream(partial, { flags: "wx", mode: 0o644 });
    await pipeline(Readable.from(tarStream(entries)), createGzip({ level: gzipLevel }), out);
    const handle = await open(partial, "r+");
    let bytes: number;
    try {
      await handle.sync();
      bytes = (await handle.stat()).size;
    } finally {
      await handle.close();
    }
    await rename(partial, path);
    await syncDirectory(dirname(path));
    return bytes;
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}

/** Makes a rename durable (best effort: not every file system lets a directory be opened). */
async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, "r");
    await handle.sync();
  } catch {
    // ignore: the data itself is synced; only the directory entry may lag
  } finally {
    await handle?.close();
  }
}
