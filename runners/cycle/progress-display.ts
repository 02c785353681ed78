import { formatSi } from "../../tiers/units.js";
import type { CycleStatus } from "./orchestrator-client.js";

/** What the display knows of one environment. */
export interface EnvironmentView {
  readonly id: string;
  readonly region: string;
  /** Each phase's planned duration, ms (the total is the cycle's phase time). */
  readonly phaseMs: readonly number[];
  status: CycleStatus | null;
  /** Why the environment failed (process died, unreachable), when it did. */
  failure: string | null;
}

const GATE_MARK: Readonly<Record<string, string>> = { passed: "✓", warned: "!", aborted: "✗" };

function clock(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

/** Phase time done so far: planned durations of the finished phases plus the current one's elapsed time. */
export function phaseTimeDone(view: EnvironmentView): number {
  const st = view.status;
  if (!st) return 0;
  let done = 0;
  const cur = st.phase;
  for (const [i, p] of st.phases.entries()) {
    if (cur && i === cur.index) done += Math.min(cur.elapsed_ms, cur.duration_ms);
    else if (p.status === "completed" || p.status === "aborted") done += view.phaseMs[i] ?? 0;
  }
  return done;
}

/** The one-line state of an environment: phase, elapsed / total, current RPS and p99, gate verdicts. */
export function describeEnvironment(view: EnvironmentView): string {
  const head = `${view.id.padEnd(8)} ${view.region.padEnd(15)}`;
  if (view.failure) return `${head} FAILED  ${view.failure}`;
  const st = view.status;
  if (!st) return `${head} starting`;
  const gates = st.phases
    .filter((p) => p.gate !== null && p.gate !== "not_run")
    .map((p) => `${p.name} ${GATE_MARK[p.gate!] ?? p.gate}`)
    .join(" ");
  const where =
    st.state === "calibrating"
      ? "calibrating"
      : st.phase
        ? `${st.phase.name} ${st.phase.index + 1}/${st.phases.length}`
        : st.state === "running"
          ? "between phases"
          : `${st.state}${st.verdict ? ` (${st.verdict})` : ""}`;
  const latest = st.latest;
  const figures =
    st.state === "running" && latest
      ? `rps ${latest.rps === null ? "-" : formatSi(latest.rps)}  p99 ${latest.p99_ms === null ? "-" : `${latest.p99_ms.toFixed(1)} ms`}`
      : "";
  return [
    head,
    where.padEnd(16),
    `${clock(phaseTimeDone(view))}/${clock(view.phaseMs.reduce((a, b) => a + b, 0))}`,
    figures.padEnd(24),
    gates ? `gates: ${gates}` : "",
  ]
    .join(" ")
    .trimEnd();
}

export interface ProgressOutput {
  write(text: string): unknown;
  /** A terminal's width: redrawn lines are cut to it, so none wraps and the redraw stays in place. */
  readonly columns?: number;
}

/**
 * The runner's live progress. On a terminal it redraws one line per environment in place (a few
 * times a second); otherwise it prints timestamped lines: each change of state, phase or gate
 * verdict as it happens, and the running figures every `figuresEveryMs`.
 */
export class ProgressDisplay {
  private drawn = 0;
  private lastDraw = 0;
  private readonly seen = new Map<string, { key: string; gates: string; lastFigures: number }>();

  constructor(
    private readonly out: ProgressOutput,
    private readonly tty: boolean,
    private readonly views: readonly EnvironmentView[],
    private readonly figuresEveryMs = 10_000,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private stamp(): string {
    return `[${this.now().toISOString().slice(11, 19)}]`;
  }

  private clearBlock(): void {
    if (this.drawn > 0) this.out.write(`\x1b[${this.drawn}A\x1b[0J`);
    this.drawn = 0;
  }

  private draw(): void {
    const width = this.out.columns ?? 0;
    const lines = this.views.map((v) => {
      const line = describeEnvironment(v);
      return width > 1 && line.length >= width ? line.slice(0, width - 1) : line;
    });
    this.out.write(`${lines.map((l) => `\x1b[2K${l}`).join("\n")}\n`);
    this.drawn = lines.length;
  }

  /** A message above the live block (or a timestamped line). */
  log(line: string): void {
    if (this.tty) {
      this.clearBlock();
      this.out.write(`${line}\n`);
      this.draw();
    } else this.out.write(`${this.stamp()} ${line}\n`);
  }

  /** Shows the views' current state. */
  update(): void {
    if (this.tty) {
      const t = Date.now();
      if (this.drawn > 0 && t - this.lastDraw < 200) return;
      this.lastDraw = t;
      this.clearBlock();
      this.draw();
      return;
    }
    const t = this.now().getTime();
    for (const view of this.views) {
      const st = view.status;
      const key = view.failure
        ? "failed"
        : `${st?.state ?? "starting"}/${st?.phase?.name ?? ""}/${st?.verdict ?? ""}`;
      const gates = (st?.phases ?? []).map((p) => p.gate ?? "").join(",");
      const before = this.seen.get(view.id);
      if (!before || before.key !== key || before.gates !== gates) {
        this.out.write(`${this.stamp()} ${describeEnvironment(view)}\n`);
        this.seen.set(view.id, { key, gates, lastFigures: t });
      } else if (st?.state === "running" && t - before.lastFigures >= this.figuresEveryMs) {
        this.out.write(`${this.stamp()} ${describeEnvironment(view)}\n`);
        before.lastFigures = t;
      }
    }
  }

  /** Leaves the final state on screen. */
  finish(): void {
    if (this.tty) {
      this.clearBlock();
      this.draw();
      this.drawn = 0;
    } else this.update();
  }
}
