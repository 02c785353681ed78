/**
 * The schedules stay in step with the CLI: every `tiers` command in the two workflows and in the
 * CronJob and systemd recipes of docs/schedules.md parses with the real command definitions (an
 * option renamed in the CLI fails here), the crons are what the README says, and the scheduled run
 * keeps its report and summary. (GitHub, Kubernetes and systemd run them; here their content is checked.)
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { registerReapCommand } from "../../runners/cli/commands/reap.js";
import { registerRunCommand } from "../../runners/cli/commands/run.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
}
interface Workflow {
  on: { schedule: { cron: string }[]; workflow_dispatch?: unknown };
  concurrency: { group: string; "cancel-in-progress": boolean };
  jobs: Record<string, { steps: Step[]; "timeout-minutes": number }>;
}
const workflow = (name: string) =>
  parse(readFileSync(`${ROOT}.github/workflows/${name}`, "utf8")) as Workflow;

/** Parses `tiers <command> …` with the CLI's own definitions; returns the options it set. */
function parseTiers(line: string): { command: string; operands: string[]; opts: Record<string, unknown> } {
  const words = line
    .trim()
    .replace(/^(npx |\/usr\/bin\/npx )/, "")
    .split(/\s+/);
  expect(words[0]).toBe("tiers");
  const program = new Command("tiers").exitOverride();
  registerRunCommand(program);
  registerReapCommand(program);
  const command = program.commands.find((c) => c.name() === words[1]);
  if (!command) throw new Error(`no tiers command ${words[1]} (in ${line})`);
  command.exitOverride();
  const { operands, unknown } = command.parseOptions(words.slice(2));
  expect(unknown, `unknown options in: ${line}`).toStrictEqual([]);
  return { command: words[1]!, operands, opts: command.opts() };
}
const tiersLines = (text: string): string[] =>
  [...text.matchAll(/(?:npx|\/usr\/bin\/npx) tiers [^&\n"]+/g)].map((m) => m[0].trim());

describe(".github/workflows/scheduled-stress.yml", () => {
  const wf = workflow("scheduled-stress.yml");
  const steps = wf.jobs.stress!.steps;
  it("runs nightly and by hand, never two at once, never cancelled mid-teardown", () => {
    expect(wf.on.schedule).toStrictEqual([{ cron: "0 2 * * *" }]);
    expect(wf.on).toHaveProperty("workflow_dispatch");
    expect(wf.concurrency["cancel-in-progress"]).toBe(false);
  });
  it("runs an ephemeral stress stack with a 4 h TTL, within a job limit that leaves room for destroy", () => {
    const runs = steps.flatMap((s) => (s.run ? tiersLines(s.run) : []));
    expect(runs.map(parseTiers)).toStrictEqual([
      { command: "run", operands: ["stress"], opts: { ephemeral: true, ttl: "4h", out: "out/runs" } },
    ]);
    expect(wf.jobs.stress!["timeout-minutes"]).toBeGreaterThan(4 * 60);
  });
  it("keeps the report as an artifact and writes it into the job summary, even when the run failed", () => {
    const summary = steps.find((s) => s.run?.includes("GITHUB_STEP_SUMMARY"))!;
    expect(summary.if).toContain("!cancelled()");
    expect(summary.run).toContain("report.md");
    const upload = steps.find((s) => s.uses?.startsWith("actions/upload-artifact@"))!;
    expect(upload.with?.path).toContain("out/runs/*/report.*");
    expect(upload.if).toContain("!cancelled()");
  });
});

describe(".github/workflows/reap.yml", () => {
  const wf = workflow("reap.yml");
  it("runs hourly and lists orphans without deleting them", () => {
    expect(wf.on.schedule).toHaveLength(1);
    expect(wf.on.schedule[0]!.cron).toMatch(/^\d{1,2} \* \* \* \*$/);
    const runs = wf.jobs.reap!.steps.flatMap((s) => (s.run ? tiersLines(s.run) : []));
    expect(runs.map(parseTiers)).toStrictEqual([{ command: "reap", operands: [], opts: {} }]);
  });
});

describe("docs/schedules.md", () => {
  const text = readFileSync(`${ROOT}docs/schedules.md`, "utf8");
  it("has the same two commands as CronJobs, as the workflows run them", () => {
    const yamlBlock = /```yaml\n([\s\S]+?)```/.exec(text)![1]!;
    interface CronJob {
      kind: string;
      apiVersion: string;
      spec: {
        schedule: string;
        concurrencyPolicy: string;
        jobTemplate: { spec: { template: { spec: { containers: { args: string[] }[] } } } };
      };
    }
    const jobs = parseAllDocuments(yamlBlock).map((d) => d.toJS() as CronJob);
    expect(jobs.map((j) => [j.kind, j.apiVersion, j.spec.schedule, j.spec.concurrencyPolicy])).toStrictEqual([
      ["CronJob", "batch/v1", "0 2 * * *", "Forbid"],
      ["CronJob", "batch/v1", "17 * * * *", "Forbid"],
    ]);
    const commands = jobs.map((j) =>
      tiersLines(j.spec.jobTemplate.spec.template.spec.containers[0]!.args[0]!),
    );
    expect(
      commands
        .flat()
        .map(parseTiers)
        .map((c) => c.command),
    ).toStrictEqual(["run", "reap"]);
  });
  it("has them as systemd services whose stop signal lets the runner tear down", () => {
    const ini = /```ini\n([\s\S]+?)```/.exec(text)![1]!;
    expect(
      tiersLines(ini)
        .map(parseTiers)
        .map((c) => c.command),
    ).toStrictEqual(["run", "reap"]);
    expect(ini.match(/^KillSignal=SIGINT$/gm)).toHaveLength(2);
    expect(ini).toContain("OnCalendar=hourly");
  });
});
