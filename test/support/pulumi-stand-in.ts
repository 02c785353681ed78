import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Where the recording `pulumi` stand-in lives: `<root>/bin/pulumi` (see pulumi-stand-in/pulumi.mjs). */
export const PULUMI_STAND_IN_ROOT = fileURLToPath(new URL("./pulumi-stand-in", import.meta.url));

/** One scripted `up` / `destroy` attempt. */
export interface StandInStep {
  readonly result?: "succeeded" | "failed";
  readonly stdout?: readonly string[];
  readonly stderr?: string;
  readonly lineDelayMs?: number;
  /** Keep running after the progress lines until SIGINT (what a long `up` does). */
  readonly waitForSignal?: boolean;
  readonly resourcesOnFailure?: number;
  readonly resourcesOnCancel?: number;
}

export interface StandInScenario {
  /** Stacks that exist before the test (name → tags, resources, last update). */
  readonly stacks?: Record<
    string,
    {
      tags: Record<string, string>;
      resourceCount: number;
      lastUpdate: string | null;
      updateInProgress?: boolean;
      outputs?: unknown;
    }
  >;
  readonly outputs?: Record<string, unknown>;
  readonly secretOutputs?: readonly string[];
  readonly resourceCount?: number;
  /** One entry per attempt; the last one repeats. */
  readonly up?: readonly StandInStep[];
  readonly destroy?: readonly StandInStep[];
}

export interface PulumiStandIn {
  readonly dir: string;
  readonly root: string;
  /** What a process needs to find and use the stand-in as `pulumi` on its PATH. */
  readonly env: NodeJS.ProcessEnv;
  /** Every invocation so far, as argv. */
  calls(): Promise<string[][]>;
  /** The stand-in's stacks now. */
  stacks(): Promise<Record<string, { tags: Record<string, string>; resourceCount: number }>>;
  close(): Promise<void>;
}

export async function startPulumiStandIn(scenario: StandInScenario): Promise<PulumiStandIn> {
  const dir = await mkdtemp(join(tmpdir(), "tiers-pulumi-stand-in-"));
  await writeFile(join(dir, "scenario.json"), JSON.stringify(scenario));
  await writeFile(join(dir, "calls.jsonl"), "");
  process.env.TIERS_PULUMI_STAND_IN = dir;
  return {
    dir,
    root: PULUMI_STAND_IN_ROOT,
    env: {
      TIERS_PULUMI_STAND_IN: dir,
      PATH: `${join(PULUMI_STAND_IN_ROOT, "bin")}${delimiter}${process.env.PATH ?? ""}`,
      PULUMI_HOME: join(dir, "home"),
    },
    calls: async () =>
      (await readFile(join(dir, "calls.jsonl"), "utf8"))
        .split("\n")
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as { argv: string[] }).argv),
    stacks: async () => {
      try {
        return (JSON.parse(await readFile(join(dir, "state.json"), "utf8")) as { stacks: never }).stacks;
      } catch {
        return {};
      }
    },
    close: () => rm(dir, { recursive: true, force: true }),
  };
}
