import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from "node:fs";
import type { ConfigIssue } from "./issues.js";

/**
 * Reading a file a user points at (suite, stack file, orchestrator config, keyring, token, plan)
 * without trusting it: opened without blocking and checked on the descriptor, so a FIFO, a device
 * or a directory is refused instead of waited on or read forever; refused before it is read when
 * it is larger than the loader's bound; and decoded as strict UTF-8, an invalid byte refused with
 * its position. Every problem comes back as an issue, never thrown, so a loader can report it with
 * everything else.
 */

/** Upper bound on a configuration file (suite, stack file, orchestrator config, keyring). */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;
/** Upper bound on a plan file (`tiers plan --json`): an ultimate plan with many environments. */
export const MAX_PLAN_BYTES = 32 * 1024 * 1024;
/** Upper bound on a secret file (API token). */
export const MAX_SECRET_BYTES = 64 * 1024;

export interface ReadFileOptions {
  readonly maxBytes: number;
  /** How the file is named in messages (default: the path). */
  readonly display?: string;
}

export type ReadText =
  | { readonly text: string; readonly issues: [] }
  | { readonly text?: undefined; readonly issues: ConfigIssue[] };

export function describeKind(info: Stats): string {
  if (info.isDirectory()) return "a directory";
  if (info.isFIFO()) return "a FIFO (named pipe)";
  if (info.isCharacterDevice()) return "a character device";
  if (info.isBlockDevice()) return "a block device";
  if (info.isSocket()) return "a socket";
  return "not a regular file";
}

function openProblem(code: string | undefined, error: unknown): string {
  switch (code) {
    case "ENOENT":
      return "file not found";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "ELOOP":
      return "too many symbolic links";
    case "ENOTDIR":
      return "a part of the path is not a directory";
    default:
      return `cannot read file (${code ?? String(error)})`;
  }
}

/** Byte offset of the first byte that does not start or continue a valid UTF-8 sequence, or -1. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    let need: number;
    let min: number;
    if (b < 0x80) {
      i++;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) [need, min] = [1, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [need, min] = [2, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [need, min] = [3, 0x10000];
    else return i;
    if (i + need >= bytes.length) return i;
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}

/** Line and column (1-based, columns in characters) of a byte offset in valid UTF-8 before it. */
function positionOf(bytes: Uint8Array, offset: number): { line: number; col: number } {
  const before = Buffer.from(bytes.subarray(0, offset)).toString("utf8");
  const lines = before.split("\n");
  return { line: lines.length, col: [...lines.at(-1)!].length + 1 };
}

/** Reads a regular file of at most `maxBytes` as strict UTF-8; problems as issues. */
export function readTextFile(file: string, options: ReadFileOptions): ReadText {
  const display = options.display ?? file;
  const issue = (message: string, extra: Partial<ConfigIssue> = {}): ReadText => ({
    issues: [{ file: display, path: "(file)", message, ...extra }],
  });
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    return issue(openProblem((error as NodeJS.ErrnoException).code, error));
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile())
      return issue(`is ${describeKind(info)}, not a regular file`, { expected: "a regular file" });
    const tooLarge = (size: string) =>
      issue("file is too large for this kind of file", {
        got: size,
        expected: `at most ${options.maxBytes} bytes`,
      });
    if (info.size > options.maxBytes) return tooLarge(`${info.size} bytes`);
    // Read to the end, but never past the bound: a file that grew since fstat is still refused.
    const chunks: Buffer[] = [];
    let length = 0;
    for (;;) {
      const chunk = Buffer.alloc(Math.min(64 * 1024, options.maxBytes + 1 - length));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      length += n;
      if (length > options.maxBytes) return tooLarge(`more than ${options.maxBytes} bytes`);
    }
    const bytes = Buffer.concat(chunks);
    const bad = firstInvalidUtf8(bytes);
    if (bad !== -1) {
      const at = positionOf(bytes, bad);
      return {
        issues: [
          {
            file: display,
            ...at,
            path: "(file)",
            message: `not UTF-8: the byte at offset ${bad} is 0x${bytes[bad]!.toString(16).padStart(2, "0")}`,
            expected: "a UTF-8 text file",
          },
        ],
      };
    }
    return { text: bytes.toString("utf8"), issues: [] };
  } finally {
    closeSync(fd);
  }
}
