/**
 * Reads seed 001's own tables and blocks straight from the seed text (a verbatim copy under
 * test/fixtures/seeds/), so catalog tests compare against the source document, not against
 * figures retyped in a test.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

const SEED_001 = readFileSync(
  fileURLToPath(new URL("../fixtures/seeds/001-ultimate-test-environment.txt", import.meta.url)),
  "utf8",
);
export const SEED_000 = readFileSync(
  fileURLToPath(new URL("../fixtures/seeds/000-isolated-environments.txt", import.meta.url)),
  "utf8",
);

/** Every ```yaml block of a seed, parsed. */
export function yamlBlocks(text: string = SEED_001): Record<string, unknown>[] {
  return [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => parse(m[1]!) as Record<string, unknown>);
}

export function yamlBlock(key: string, text: string = SEED_001): Record<string, unknown> {
  const block = yamlBlocks(text).find((b) => key in b);
  if (!block) throw new Error(`seed has no yaml block with ${key}`);
  return block[key] as Record<string, unknown>;
}

export interface SeedPhase {
  name: string;
  duration: string;
  rps: string;
  connections: string;
  cpu_target?: string;
  memory_target?: string;
  objectives: string[];
  chaos_scenarios?: string[];
}

/** The seven `<name>_phase = {...}` Python dicts of seed 001, read with regular expressions. */
export function seedPhases(): SeedPhase[] {
  return [...SEED_001.matchAll(/(\w+)_phase = \{([\s\S]*?)\n\}/g)].map((m) => {
    const body = m[2]!;
    const field = (k: string): string | undefined =>
      new RegExp(`"${k}": ("([^"]*)"|([0-9]+|True))`)
        .exec(body)
        ?.slice(2)
        .find((x) => x !== undefined);
    const list = (k: string): string[] | undefined => {
      const lm = new RegExp(`"${k}": \\[([\\s\\S]*?)\\]`).exec(body);
      return lm ? [...lm[1]!.matchAll(/"([^"]+)"/g)].map((x) => x[1]!) : undefined;
    };
    return {
      name: m[1]!,
      duration: field("duration")!,
      rps: field("requests_per_second")!,
      connections: field("active_connections")!,
      ...(field("cpu_target") ? { cpu_target: field("cpu_target")! } : {}),
      ...(field("memory_target") ? { memory_target: field("memory_target")! } : {}),
      objectives: list("objectives")!,
      ...(list("chaos_scenarios") ? { chaos_scenarios: list("chaos_scenarios")! } : {}),
    };
  });
}

/** The "Resource Scaling Matrix" markdown table: phase → cells. */
export function scalingMatrix(): Record<string, string[]> {
  const section = SEED_001.split("### Resource Scaling Matrix")[1]!.split("###")[0]!;
  const rows = section
    .split("\n")
    .filter((l) => l.startsWith("|") && !l.includes("---") && !l.includes("Phase"))
    .map((l) =>
      l
        .split("|")
        .slice(1, -1)
        .map((c) => c.trim()),
    );
  return Object.fromEntries(rows.map((r) => [r[0]!.toLowerCase(), r.slice(1)]));
}
