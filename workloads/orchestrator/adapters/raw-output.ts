import { mkdir, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import type { Result } from "../../shared/result.js";

/**
 * Keeps each run's untouched output: `<rawDir>/<result_id>.stdout`, `.stderr` and one file per
 * result file the tool wrote. A Result refers to them as `raw/<name>` (their place in the bundle).
 */

export interface RawBytes {
  readonly stdout: Uint8Array | string;
  readonly stderr: Uint8Array | string;
  readonly files: Readonly<Record<string, Uint8Array | string>>;
}

/** Writes the raw outputs; returns the Result's `raw` block and any problem writing them (never throws). */
export async function writeRawOutput(
  rawDir: string,
  resultId: string,
  raw: RawBytes,
): Promise<{ raw: Result["raw"]; problems: string[] }> {
  const problems: string[] = [];
  const out: { stdout?: string; stderr?: string; files?: string[] } = {};
  try {
    await mkdir(rawDir, { recursive: true });
  } catch (error) {
    return { raw: {}, problems: [`raw output not kept: ${(error as Error).message}`] };
  }
  const put = async (suffix: string, content: Uint8Array | string): Promise<string | undefined> => {
    const name = `${resultId}.${suffix}`;
    try {
      await writeFile(join(rawDir, name), content);
      return `raw/${name}`;
    } catch (error) {
      problems.push(`raw output ${name} not kept: ${(error as Error).message}`);
      return undefined;
    }
  };
  if (raw.stdout.length > 0) {
    const ref = await put("stdout", raw.stdout);
    if (ref) out.stdout = ref;
  }
  if (raw.stderr.length > 0) {
    const ref = await put("stderr", raw.stderr);
    if (ref) out.stderr = ref;
  }
  for (const [name, content] of Object.entries(raw.files)) {
    const ref = await put(basename(name), content);
    if (ref) (out.files ??= []).push(ref);
  }
  return { raw: out, problems };
}
