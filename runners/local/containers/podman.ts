import { execa } from "execa";
import { ExitCode, TiersError } from "../../../tiers/errors.js";

/** Runs podman; a failure is an infrastructure error quoting podman's last lines. */
export async function podman(
  args: readonly string[],
  options: { input?: string; signal?: AbortSignal; what?: string; timeoutMs?: number } = {},
): Promise<string> {
  const r = await execa("podman", args, {
    reject: false,
    ...(options.input !== undefined ? { input: options.input } : {}),
    ...(options.signal ? { cancelSignal: options.signal } : {}),
    timeout: options.timeoutMs ?? 180_000,
  });
  if (r.exitCode !== 0) {
    const tail = (r.stderr || r.stdout || String(r.message)).trim().split("\n").slice(-5);
    throw new TiersError(
      r.isCanceled ? ExitCode.Interrupted : ExitCode.Infrastructure,
      `${options.what ?? `podman ${args[0]}`} failed (podman ${args.slice(0, 2).join(" ")}: exit ${String(r.exitCode)})`,
      { details: tail },
    );
  }
  return r.stdout;
}

/** Like `podman` but never throws: for teardown, which must try everything. */
export async function podmanQuiet(
  args: readonly string[],
  timeoutMs = 60_000,
): Promise<{ ok: boolean; out: string }> {
  const r = await execa("podman", args, { reject: false, timeout: timeoutMs });
  return { ok: r.exitCode === 0, out: `${r.stdout}\n${r.stderr}`.trim() };
}

/** Names (one a line) that podman lists for `kind` with a label. */
export async function listByLabel(
  kind: "pod" | "container" | "volume" | "network",
  label: string,
): Promise<string[]> {
  const args =
    kind === "pod"
      ? ["pod", "ps", "-a", "--filter", `label=${label}`, "--format", "{{.Name}}"]
      : kind === "container"
        ? ["ps", "-a", "--filter", `label=${label}`, "--format", "{{.Names}}"]
        : [kind, "ls", "--filter", `label=${label}`, "--format", "{{.Name}}"];
  const r = await podmanQuiet(args);
  return r.ok
    ? r.out
        .split("\n")
        .map((l) => l.trim())
        .filter(Boolean)
    : [];
}
