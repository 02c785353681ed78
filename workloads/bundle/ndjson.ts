import { createReadStream } from "node:fs";
import type { z } from "zod";
import { BundleError } from "./errors.js";

/** Consecutive lines of a file; `lines[i]` is line number `first + i`. */
export interface LineBatch {
  readonly first: number;
  readonly lines: string[];
}

/**
 * Lines of a UTF-8 file, numbered from 1, in batches of about a megabyte (one await per batch, not
 * per line). Invalid UTF-8 is an error, never a replacement character.
 */
export async function* readLineBatches(path: string, label: string): AsyncGenerator<LineBatch> {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let carry = "";
  let line = 0;
  const decode = (chunk?: Buffer): string => {
    try {
      return chunk === undefined ? decoder.decode() : decoder.decode(chunk, { stream: true });
    } catch (error) {
      throw new BundleError("malformed_content", `${label}:${line + 1}: not UTF-8`, { cause: error });
    }
  };
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    const lines = (carry + decode(chunk)).split("\n");
    carry = lines.pop()!;
    yield { first: line + 1, lines };
    line += lines.length;
  }
  const rest = carry + decode();
  if (rest !== "") yield { first: line + 1, lines: [rest] };
}

/** Parses and checks one line against its schema; a failure names the file, line and field. */
export function parseLine<S extends z.ZodType>(
  schema: S,
  label: string,
  line: number,
  text: string,
): z.infer<S> {
  if (text === "") throw new BundleError("malformed_content", `${label}:${line}: empty line`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new BundleError("malformed_content", `${label}:${line}: not JSON (${(error as Error).message})`, {
      cause: error,
    });
  }
  return parseValue(schema, `${label}:${line}`, value);
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
