import { execa } from "execa";
import { ExitCode, TiersError } from "../../tiers/errors.js";

export const ENGINES = ["podman", "docker"] as const;
export type Engine = (typeof ENGINES)[number];

/** Why an engine does not run here, or undefined when `<engine> info` answers. */
async function engineProblem(engine: Engine): Promise<string | undefined> {
  const r = await execa(engine, ["info", "--format", "{{json .}}"], { reject: false, timeout: 30_000 });
  if (r.failed && (r as { code?: string }).code === "ENOENT") return `${engine}: not installed`;
  if (r.exitCode !== 0) {
    const line = (r.stderr || r.stdout || String(r.message)).trim().split("\n").at(-1) ?? "";
    return `${engine}: \`${engine} info\` failed (${line.slice(0, 200)})`;
  }
  return undefined;
}

/**
 * The container engine to use: `preferred` if given (it must run), else podman, else docker.
 * Neither running is an infrastructure problem (exit 6) with what was tried and how to fix it.
 */
export async function resolveEngine(preferred?: Engine): Promise<Engine> {
  const tried: string[] = [];
  for (const engine of preferred ? [preferred] : ENGINES) {
    const problem = await engineProblem(engine);
    if (problem === undefined) return engine;
    tried.push(problem);
  }
  throw new TiersError(ExitCode.Infrastructure, `no container engine runs here (${tried.join("; ")})`, {
    details: [
      "install and configure podman (Debian: sudo .ci/podman-setup), or start Docker, then run this again",
    ],
  });
}

export function isEngine(value: string): value is Engine {
  return (ENGINES as readonly string[]).includes(value);
}
