import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createHash } from "node:crypto";
import { Transform } from "node:stream";
import { createDeflateRaw, createGzip, crc32 } from "node:zlib";
import type { SigningKey } from "./keys.js";
import { SEAL_HEADER_BYTES, SEAL_OFFSET, sealFor, sealHeaderTemplate } from "./seal.js";
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
 * sibling, flushed to disk, then renamed, so `path` is either absent or complete. With `seal`, the
 * gzip header carries the key's signature over the compressed bytes (seal.ts); without, it is a
 * plain gzip file (which a bundle reader refuses as unsealed).
 */
export async function writeTarGz(
  path: string,
  entries: readonly ArchiveEntry[],
  gzipLevel = 6,
  seal?: SigningKey,
): Promise<number> {
  const partial = `${path}.partial-${randomBytes(4).toString("hex")}`;
  try {
    const out = createWriteStream(partial, { flags: "wx", mode: 0o644 });
    if (seal) await writeSealed(out, entries, gzipLevel, seal, partial);
    else await pipeline(Readable.from(tarStream(entries)), createGzip({ level: gzipLevel }), out);
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

/** Header with an empty seal, raw deflate, CRC32 and ISIZE; then the seal is written into the header. */
async function writeSealed(
  out: NodeJS.WritableStream & { write(b: Uint8Array): boolean },
  entries: readonly ArchiveEntry[],
  gzipLevel: number,
  key: SigningKey,
  partial: string,
): Promise<void> {
  let crc = 0;
  let isize = 0;
  const body = createHash("sha256");
  const counting = new Transform({
    transform(chunk: Buffer, _e, done) {
      crc = crc32(chunk, crc);
      isize = (isize + chunk.length) % 2 ** 32;
      done(null, chunk);
    },
  });
  const hashing = new Transform({
    transform(chunk: Buffer, _e, done) {
      body.update(chunk);
      done(null, chunk);
    },
    flush(done) {
      const trailer = Buffer.alloc(8);
      trailer.writeUInt32LE(crc >>> 0, 0);
      trailer.writeUInt32LE(isize, 4);
      body.update(trailer);
      done(null, trailer);
    },
  });
  async function* withHeader(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    yield sealHeaderTemplate();
    yield* source;
  }
  await pipeline(
    Readable.from(tarStream(entries)),
    counting,
    createDeflateRaw({ level: gzipLevel }),
    hashing,
    withHeader,
    out,
  );
  const handle = await open(partial, "r+");
  try {
    await handle.write(sealFor(key, body.digest()), 0, SEAL_HEADER_BYTES - SEAL_OFFSET, SEAL_OFFSET);
  } finally {
    await handle.close();
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
