import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../../tiers/config/issues.js";
import { planFromSources } from "../../tiers/plan/compile.js";
import type { RawOptions } from "../../tiers/plan/options.js";

export interface PlanCase {
  /** The suite file's text, written to `suite.yaml`; omit to use the built-in suite. */
  readonly suite?: string;
  readonly cli?: RawOptions;
  readonly env?: Record<string, string>;
  /** Name the suite file something other than suite.yaml (e.g. a missing path). */
  readonly suitePath?: string;
}

/**
 * Compiles a plan from the case and returns the formatted problems with the temporary directory
 * removed from file names, or `[]` when the plan compiled.
 */
export function planProblems(c: PlanCase): string[] {
  const dir = mkdtempSync(join(tmpdir(), "tiers-plan-"));
  try {
    let suitePath: string | undefined;
    if (c.suite !== undefined) {
      suitePath = join(dir, "suite.yaml");
      writeFileSync(suitePath, c.suite);
    }
    if (c.suitePath !== undefined) suitePath = join(dir, c.suitePath);
    try {
      planFromSources({
        ...(suitePath !== undefined ? { suitePath } : {}),
        defaults: { load_mode: "absolute" },
        env: c.env ?? {},
        cli: { tier: "stress", ...c.cli },
      });
      return [];
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return error.details.map((d) => d.split(`${dir}/`).join(""));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
