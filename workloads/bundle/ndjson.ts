import { createReadStream } from "node:fs";
import type { z } from "zod";
import { BundleError } from "./errors.js";
import { jsonTextProblem } from "./json-check.js";

/** Consecutive lines of a file; `lines[i]` is line number `first + i`. */
export interface LineBatch {
  readonly first: number;
  readonly lines: string[];
}

const NEWLINE = 0x0a;
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Lines of a UTF-8 file, numbered from 1, in batches of about a megabyte (one await per batch, not
 * per line). Lines are split on the bytes (a newline byte never occurs inside a UTF-8 sequence), so
 * a line longer than `maxLineBytes` is refused as soon as that many bytes lack a newline: memory
 * stays bounded whatever the file holds. Invalid UTF-8 is an error, never a replacement character.
 */
export async function* readLineBatches(
  path: string,
  label: string,
  maxLineBytes: number,
  signal?: AbortSignal,
): AsyncGenerator<LineBatch> {
  let carry: Buffer = Buffer.alloc(0);
  let line = 0;
  const tooLong = (n: number) =>
    new BundleError(
      "malformed_content",
      `${label}:${n}: the line is longer than ${maxLineBytes} bytes (the bound of an ndjson line)`,
    );
  const decode = (bytes: Buffer, firstLine: number): string => {
    try {
      return decoder.decode(bytes);
    } catch (error) {
      throw new BundleError("malformed_content", `${label}:${firstLine}: not UTF-8`, { cause: error });
    }
  };
  const stream = createReadStream(path, { highWaterMark: 1 << 20, ...(signal ? { signal } : {}) });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const last = chunk.lastIndexOf(NEWLINE);
    if (last === -1) {
      if (carry.length + chunk.length > maxLineBytes) throw tooLong(line + 1);
      carry = Buffer.concat([carry, chunk]);
      continue;
    }
    const bytes =
      carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, last)]) : chunk.subarray(0, last);
    let start = 0;
    let n = line;
    for (let nl = bytes.indexOf(NEWLINE); ; nl = bytes.indexOf(NEWLINE, start)) {
      n++;
      const end = nl === -1 ? bytes.length : nl;
      if (end - start > maxLineBytes) throw tooLong(n);
      if (nl === -1) break;
      start = nl + 1;
    }
    const lines = decode(bytes, line + 1).split("\n");
    yield { first: line + 1, lines };
    line += lines.length;
    carry = Buffer.from(chunk.subarray(last + 1));
    if (carry.length > maxLineBytes) throw tooLong(line + 1);
  }
  if (carry.length > 0) yield { first: line + 1, lines: [decode(carry, line + 1)] };
}

/** Parses and checks one line against its schema; a failure names the file, line and field. */
export function parseLine<S extends z.ZodType>(
  schema: S,
  label: string,
  line: number,
  text: string,
): z.infer<S> {
  const where = `${label}:${line}`;
  const value = parseJsonLine(where, text);
  const problem = jsonTextProblem(text, value);
  if (problem) throw new BundleError("malformed_content", `${where}: ${problem}`);
  return parseValue(schema, where, value);
}

/** JSON.parse with the refusal a bundle gets for a line that is empty or not JSON. */
export function parseJsonLine(where: string, text: string): unknown {
  if (text === "") throw new BundleError("malformed_content", `${where}: empty line`);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new BundleError("malformed_content", `${where}: not JSON (${(error as Error).message})`, {
      cause: error,
    });
  }
}

export function parseValue<S extends z.ZodType>(schema: S, where: string, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.length > 0 ? i.path.join(".") : "(root)"}: ${i.message}`);
    throw new BundleError("malformed_content", `${where}: ${issues.join("; ")}`);
  }
  return parsed.data;
}
