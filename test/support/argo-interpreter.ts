/**
 * Runs a rendered WorkflowTemplate the way Argo's controller runs it, on this machine: every
 * container template as a real process of its command (the image's `orchestrator` is this
 * checkout's bin/orchestrator.js), with its args and env after Argo's `{{…}}` substitution; steps
 * templates group by group, the steps of a group in parallel up to the template's `parallelism`,
 * each step's `when` evaluated on its resolved text; output parameters read from `valueFrom.path`
 * in the step's own filesystem (a private directory per pod); `spec.onExit` run whatever happened.
 *
 * It refuses what it does not implement (any other template or step field, an unresolved
 * `{{…}}`, a `when` other than `a == b` / `a != b`), so a template cannot pass through it while
 * meaning something it did not run. Pod placement and cleanup fields (securityContext, volumes,
 * affinity, podGC, ttlStrategy, serviceAccountName, …) only matter on a cluster and are listed as
 * not interpreted.
 *
 * `automountServiceAccountToken` is interpreted, as Argo's controller resolves it (the template's,
 * else the spec's, else Kubernetes' default: mounted): a container whose pod gets the
 * ServiceAccount's token gets `serviceAccountEnv` (what stands in for the mounted token here, e.g.
 * TIERS_KUBECONFIG naming the Kubernetes API stand-in); any other reaches no Kubernetes API.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

type Json = Record<string, unknown>;

const BIN = fileURLToPath(new URL("../../bin/orchestrator.js", import.meta.url));

/** Spec fields that decide what runs: all interpreted. */
const RUN_FIELDS = new Set([
  "entrypoint",
  "onExit",
  "arguments",
  "templates",
  "automountServiceAccountToken",
]);
/** Spec fields that only place, secure or clean up pods on a cluster. */
export const NOT_INTERPRETED = new Set([
  "serviceAccountName",
  "executor",
  "securityContext",
  "affinity",
  "volumes",
  "podMetadata",
  "ttlStrategy",
  "podGC",
]);
const TEMPLATE_FIELDS = new Set([
  "name",
  "steps",
  "container",
  "inputs",
  "outputs",
  "parallelism",
  "automountServiceAccountToken",
]);
const STEP_FIELDS = new Set(["name", "template", "arguments", "when"]);
const CONTAINER_FIELDS = new Set([
  "name",
  "image",
  "command",
  "args",
  "env",
  "resources",
  "securityContext",
  "volumeMounts",
]);

export interface StepRun {
  /** `<template path>/<step name>`, e.g. `cycle/baseline/gate`. */
  readonly path: string;
  readonly template: string;
  readonly args: readonly string[];
  /** Whether its pod mounted the ServiceAccount's token (got `serviceAccountEnv`). */
  readonly serviceAccountToken: boolean;
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly startedMs: number;
  readonly endedMs: number;
}

export interface WorkflowRun {
  readonly phase: "Succeeded" | "Failed";
  /** Every container step, in the order it started. */
  readonly steps: StepRun[];
  /** Steps whose `when` was false: their paths. */
  readonly skipped: string[];
  /** Highest number of container steps that ran at once, per steps template path. */
  readonly concurrency: Map<string, number>;
}

export interface InterpretOptions {
  readonly workflowName: string;
  /** Variables the image's environment adds to every container (PATH). */
  readonly baseEnv?: NodeJS.ProcessEnv;
  /** What a container whose pod mounts the ServiceAccount's token sees (the stand-in's kubeconfig). */
  readonly serviceAccountEnv?: NodeJS.ProcessEnv;
}

interface Outcome {
  readonly ok: boolean;
  readonly outputs: Record<string, string>;
}

function refuseUnknown(where: string, value: Json, allowed: Set<string>): void {
  for (const k of Object.keys(value))
    if (!allowed.has(k)) throw new Error(`${where}: field ${k} is not interpreted`);
}

function substitute(text: string, vars: Record<string, string>, where: string): string {
  const out = text.replace(/\{\{\s*([^{}]+?)\s*\}\}/g, (whole, name: string) => {
    const v = vars[name];
    if (v === undefined) throw new Error(`${where}: cannot resolve ${whole}`);
    return v;
  });
  return out;
}

/** Argo's `when` for the two forms a template of this project uses. */
export function evaluateWhen(expression: string): boolean {
  const m = /^\s*(\S+)\s*(==|!=)\s*(\S+)\s*$/.exec(expression);
  if (!m) throw new Error(`when "${expression}": only "a == b" and "a != b" are interpreted`);
  return m[2] === "==" ? m[1] === m[3] : m[1] !== m[3];
}

async function runBounded<T>(
  limit: number,
  items: readonly T[],
  each: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await each(item);
    }
  });
  await Promise.all(workers);
}

export async function interpretWorkflowTemplate(
  body: { spec: Json },
  options: InterpretOptions,
): Promise<WorkflowRun> {
  const spec = body.spec;
  for (const k of Object.keys(spec))
    if (!RUN_FIELDS.has(k) && !NOT_INTERPRETED.has(k)) throw new Error(`spec: field ${k} is not interpreted`);
  const templates = new Map((spec.templates as Json[]).map((t) => [t.name as string, t]));
  const globals: Record<string, string> = { "workflow.name": options.workflowName };
  for (const p of ((spec.arguments as Json | undefined)?.parameters ?? []) as Json[])
    globals[`workflow.parameters.${p.name as string}`] = substitute(String(p.value), globals, "arguments");

  const pods = mkdtempSync(join(tmpdir(), "tiers-argo-pods-"));
  const steps: StepRun[] = [];
  const skipped: string[] = [];
  const concurrency = new Map<string, number>();
  let podCount = 0;

  const runContainer = async (
    path: string,
    template: Json,
    inputs: Record<string, string>,
    parent: string,
    running: { now: number },
  ): Promise<Outcome> => {
    const c = template.container as Json;
    refuseUnknown(`${path} container`, c, CONTAINER_FIELDS);
    const root = join(pods, String(podCount++));
    mkdirSync(root);
    const outputs = ((template.outputs as Json | undefined)?.parameters ?? []) as Json[];
    const vars: Record<string, string> = { ...globals };
    for (const [k, v] of Object.entries(inputs)) vars[`inputs.parameters.${k}`] = v;
    const inPod = (p: string): string => join(root, p);
    for (const o of outputs) {
      const p = (o.valueFrom as Json).path as string;
      mkdirSync(dirname(inPod(p)), { recursive: true });
      vars[`outputs.parameters.${o.name as string}.path`] = inPod(p);
    }
    const command = (c.command as string[]).map((s) => substitute(s, vars, path));
    if (command[0] !== "orchestrator" || command.length !== 1)
      throw new Error(`${path}: runs ${command.join(" ")}, not the image's orchestrator command`);
    const args = ((c.args as string[] | undefined) ?? []).map((s) => substitute(s, vars, path));
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, ...options.baseEnv };
    // Argo: the template's automountServiceAccountToken, else the spec's; unset, Kubernetes mounts it.
    const automount = (template.automountServiceAccountToken ?? spec.automountServiceAccountToken) as
      boolean | undefined;
    if (automount !== false) Object.assign(env, options.serviceAccountEnv);
    for (const e of (c.env ?? []) as Json[]) env[e.name as string] = substitute(String(e.value), vars, path);
    running.now++;
    concurrency.set(parent, Math.max(concurrency.get(parent) ?? 0, running.now));
    const startedMs = Date.now();
    const entry: { -readonly [K in keyof StepRun]: StepRun[K] } = {
      path,
      template: template.name as string,
      args,
      serviceAccountToken: automount !== false,
      code: null,
      stdout: "",
      stderr: "",
      startedMs,
      endedMs: startedMs,
    };
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
      steps.push(entry);
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      child.once("exit", (code) => resolve({ code, stdout, stderr }));
    });
    running.now--;
    Object.assign(entry, result, { endedMs: Date.now() });
    const values: Record<string, string> = {};
    if (result.code === 0) {
      for (const o of outputs) {
        const file = vars[`outputs.parameters.${o.name as string}.path`]!;
        values[o.name as string] = readFileSync(file, "utf8");
      }
    }
    return { ok: result.code === 0, outputs: values };
  };

  const runTemplate = async (
    path: string,
    name: string,
    inputs: Record<string, string>,
    parent: string,
    running: { now: number },
  ): Promise<Outcome> => {
    const template = templates.get(name);
    if (!template) throw new Error(`${path}: no template ${name}`);
    refuseUnknown(`template ${name}`, template, TEMPLATE_FIELDS);
    for (const p of ((template.inputs as Json | undefined)?.parameters ?? []) as Json[])
      if (inputs[p.name as string] === undefined)
        throw new Error(`${path}: input ${p.name as string} missing`);
    if (template.container) return runContainer(path, template, inputs, parent, running);
    const groups = template.steps as Json[][];
    const stepOutputs: Record<string, string> = {};
    const own = { now: 0 };
    for (const group of groups) {
      const vars: Record<string, string> = { ...globals, ...stepOutputs };
      for (const [k, v] of Object.entries(inputs)) vars[`inputs.parameters.${k}`] = v;
      const toRun: Json[] = [];
      for (const step of group) {
        refuseUnknown(`${path}/${step.name as string}`, step, STEP_FIELDS);
        const when = step.when as string | undefined;
        if (when !== undefined && !evaluateWhen(substitute(when, vars, `${path}/${step.name as string}`))) {
          skipped.push(`${path}/${step.name as string}`);
          continue;
        }
        toRun.push(step);
      }
      let failed = false;
      await runBounded((template.parallelism as number | undefined) ?? toRun.length, toRun, async (step) => {
        const args: Record<string, string> = {};
        for (const p of ((step.arguments as Json | undefined)?.parameters ?? []) as Json[])
          args[p.name as string] = substitute(String(p.value), vars, `${path}/${step.name as string}`);
        const out = await runTemplate(
          `${path}/${step.name as string}`,
          step.template as string,
          args,
          path,
          own,
        );
        for (const [k, v] of Object.entries(out.outputs))
          stepOutputs[`steps.${step.name as string}.outputs.parameters.${k}`] = v;
        if (!out.ok) failed = true;
      });
      if (failed) return { ok: false, outputs: {} };
    }
    return { ok: true, outputs: {} };
  };

  try {
    const main = await runTemplate(spec.entrypoint as string, spec.entrypoint as string, {}, "", { now: 0 });
    let exit: Outcome = { ok: true, outputs: {} };
    if (spec.onExit !== undefined)
      exit = await runTemplate(spec.onExit as string, spec.onExit as string, {}, "", { now: 0 });
    return { phase: main.ok && exit.ok ? "Succeeded" : "Failed", steps, skipped, concurrency };
  } finally {
    rmSync(pods, { recursive: true, force: true });
  }
}
