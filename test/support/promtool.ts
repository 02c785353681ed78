import { execa } from "execa";

/** `promtool check metrics` on an exposition (its standard input): the exit code and what it said. */
export async function promtoolCheckMetrics(text: string): Promise<{ code: number; out: string }> {
  const r = await execa("promtool", ["check", "metrics"], { input: text, reject: false });
  return { code: r.exitCode ?? 1, out: r.stdout + r.stderr };
}
