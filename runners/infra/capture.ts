import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { PROJECT_DIR } from "../../stacks/config/source.js";
import type { CapturedGraph } from "./graph.js";

export interface CaptureOptions {
  /** Read the config from this file instead of `stacks/Pulumi.<stack>.yaml`. */
  readonly stackFile?: string;
  /** Config values set over the file's (`{"test-tiers:environments": 8}`), as `pulumi config set` would. */
  readonly overrides?: Readonly<Record<string, unknown>>;
  /** Run another program (a test fixture) instead of `stacks/index.ts`. */
  readonly program?: string;
  /** @default 120000 */
  readonly timeoutMs?: number;
}

const CHILD = fileURLToPath(new URL("./capture-child.ts", import.meta.url));
const TSX = import.meta.resolve("tsx");

/**
 * Runs the whole Pulumi program for `stack` under Pulumi's mock runtime, in a child process of its
 * own (the runtime's state is global to a process), and returns every resource it registered, its
 * outputs, or the error that stopped it. Secret values never leave the child.
 */
export async function captureStack(stack: string, options: CaptureOptions = {}): Promise<CapturedGraph> {
  const dir = await mkdtemp(join(tmpdir(), "tiers-capture-"));
  const out = join(dir, "graph.json");
  try {
    const args = ["--import", TSX, CHILD, stack, "--out", out];
    if (options.stackFile !== undefined) args.push("--stack-file", options.stackFile);
    if (options.program !== undefined) args.push("--program", options.program);
    for (const [k, v] of Object.entries(options.overrides ?? {}))
      args.push("--set", `${k}=${JSON.stringify(v)}`);
    const child = await execa(process.execPath, args, {
      cwd: PROJECT_DIR,
      reject: false,
      timeout: options.timeoutMs ?? 120_000,
      all: true,
      env: { PULUMI_CONFIG: undefined, PULUMI_CONFIG_SECRET_KEYS: undefined },
    });
    let text: string;
    try {
      text = await readFile(out, "utf8");
    } catch {
      throw new Error(
        `the capture of stack ${stack} produced no graph (${child.timedOut ? "timed out" : `exit ${String(child.exitCode)}`}):\n${child.all}`,
      );
    }
    return JSON.parse(text) as CapturedGraph;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
