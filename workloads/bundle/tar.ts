/**
 * POSIX ustar, the only tar dialect a Bundle v1 uses: 512-byte headers with octal fields, the
 * `ustar\0` magic and version `00`, names up to 255 bytes (prefix + name), sizes below 8 GiB.
 * No pax or GNU extensions: the writer never needs them, and a reader that does not understand
 * them cannot be tricked by them (docs/architecture.md, "Bundle v1").
 */

export const BLOCK = 512;

/** Entry types by their ustar typeflag. The bundle writer only ever writes `file`. */
export const TAR_TYPES = {
  file: "0",
  hardlink: "1",
  symlink: "2",
  chardev: "3",
  blockdev: "4",
  directory: "5",
  fifo: "6",
  contiguous: "7",
  pax: "x",
  paxGlobal: "g",
  gnuLongName: "L",
  gnuLongLink: "K",
} as const;
export type TarType = keyof typeof TAR_TYPES;

export interface TarHeaderInput {
  readonly path: string;
  readonly size: number;
  /** Seconds since the epoch. */
  readonly mtime: number;
  readonly mode?: number;
  readonly type?: TarType;
  readonly linkname?: string;
}

export interface TarHeader {
  readonly path: string;
  readonly size: number;
  readonly mode: number;
  readonly mtime: number;
  /** The raw typeflag character (`"0"`, `"2"`, `"\0"` …). */
  readonly typeflag: string;
  readonly linkname: string;
}

/** Thrown by the codec for a header it cannot encode or decode; callers map it to their own error. */
export class TarFormatError extends Error {
  override readonly name = "TarFormatError";
}

const MAX_OCTAL_SIZE = 8 ** 11 - 1;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

function writeString(block: Buffer, offset: number, length: number, value: string, field: string): void {
  const bytes = encoder.encode(value);
  if (bytes.length > length)
    throw new TarFormatError(`${field} is ${bytes.length} bytes, at most ${length} fit`);
  block.set(bytes, offset);
}

function writeOctal(block: Buffer, offset: number, length: number, value: number): void {
  // length-1 octal digits, then NUL.
  const text = Math.trunc(value)
    .toString(8)
    .padStart(length - 1, "0");
  if (text.length > length - 1)
    throw new TarFormatError(`value ${value} does not fit an octal field of ${length}`);
  block.write(text, offset, "ascii");
  block[offset + length - 1] = 0;
}

/** Splits a long path into ustar's prefix (≤ 155 bytes) and name (≤ 100 bytes) at a `/`. */
function splitPath(path: string): { prefix: string; name: string } {
  if (encoder.encode(path).length <= 100) return { prefix: "", name: path };
  for (let i = path.lastIndexOf("/"); i > 0; i = path.lastIndexOf("/", i - 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (encoder.encode(prefix).length <= 155 && encoder.encode(name).length <= 100 && name !== "")
      return { prefix, name };
  }
  throw new TarFormatError(`path ${JSON.stringify(path)} does not fit a ustar header`);
}

export function checksumOf(block: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return sum;
}

/** One 512-byte ustar header. */
export function encodeTarHeader(input: TarHeaderInput): Buffer {
  if (!Number.isSafeInteger(input.size) || input.size < 0 || input.size > MAX_OCTAL_SIZE)
    throw new TarFormatError(`size ${input.size} is outside what ustar encodes`);
  const block = Buffer.alloc(BLOCK);
  const { prefix, name } = splitPath(input.path);
  writeString(block, 0, 100, name, "name");
  writeOctal(block, 100, 8, input.mode ?? 0o644);
  writeOctal(block, 108, 8, 0);
  writeOctal(block, 116, 8, 0);
  writeOctal(block, 124, 12, input.size);
  writeOctal(block, 136, 12, input.mtime);
  block.write(TAR_TYPES[input.type ?? "file"], 156, "ascii");
  writeString(block, 157, 100, input.linkname ?? "", "linkname");
  block.write("ustar\0", 257, "ascii");
  block.write("00", 263, "ascii");
  writeString(block, 345, 155, prefix, "prefix");
  const sum = checksumOf(block);
  block.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "ascii");
  return block;
}

/** Zero padding that brings `size` bytes of data to a whole block. */
export function paddingFor(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

/** The end-of-archive marker: two zero blocks. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);

function readString(block: Uint8Array, offset: number, length: number, field: string): string {
  const slice = block.subarray(offset, offset + length);
  const end = slice.indexOf(0);
  try {
    return decoder.decode(end === -1 ? slice : slice.subarray(0, end));
  } catch {
    throw new TarFormatError(`${field} is not UTF-8`);
  }
}

function readOctal(block: Uint8Array, offset: number, length: number, field: string): number {
  if ((block[offset]! & 0x80) !== 0) throw new TarFormatError(`${field} uses base-256 encoding`);
  const text = Buffer.from(block.subarray(offset, offset + length))
    .toString("latin1")
    .replace(/[\0 ]+$/, "")
    .replace(/^ +/, "");
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text))
    throw new TarFormatError(`${field} is not an octal number (${JSON.stringify(text)})`);
  return parseInt(text, 8);
}

export function isZeroBlock(block: Uint8Array): boolean {
  for (let i = 0; i < block.length; i++) if (block[i] !== 0) return false;
  return true;
}

/** Decodes and checks one header block: checksum, magic, octal fields, UTF-8 names. */
export function decodeTarHeader(block: Uint8Array): TarHeader {
  const stored = readOctal(block, 148, 8, "checksum");
  if (stored !== checksumOf(block)) throw new TarFormatError("header checksum does not match");
  const magic = Buffer.from(block.subarray(257, 265)).toString("latin1");
  if (magic !== "ustar\u000000")
    throw new TarFormatError(`not a POSIX ustar header (magic ${JSON.stringify(magic)})`);
  const name = readString(block, 0, 100, "name");
  const prefix = readString(block, 345, 155, "prefix");
  return {
    path: prefix === "" ? name : `${prefix}/${name}`,
    size: readOctal(block, 124, 12, "size"),
    mode: readOctal(block, 100, 8, "mode"),
    mtime: readOctal(block, 136, 12, "mtime"),
    typeflag: String.fromCharCode(block[156]!),
    linkname: readString(block, 157, 100, "linkname"),
  };
}
