/**
 * A compiled plan as an Argo Workflows WorkflowTemplate for one environment. Pure: no Pulumi, no
 * Kubernetes client; the environment component (components/environment/workflow.ts) applies it and
 * `tiers plan --workflow` prints it.
 *
 * Shape (every container runs one of the orchestrator image's step commands):
 *
 *     cycle:          [start-cycle] → [phase-<first>]
 *     phase-<p>:      [run-test × the phase's tests, run-load × its load segments (in order),
 *                      in parallel ≤ max_parallel, and run-faults beside them when it has faults]
 *                     → [gate]  (its output parameter `verdict`)
 *                     → [phase-<next>]  when: verdict != aborted
 *     exit-handler:   [finish-cycle] → [export]        (spec.onExit: runs whatever happened)
 *
 * The next phase is a step of the phase before it, so a `when` only ever reads the output of a gate
 * that ran (a skipped step has no outputs for a later `when` to resolve). The gate and finish-cycle
 * steps get `--verdict-out`: they write the verdict to the output parameter's file and exit 0 when
 * they reached one (the verdict decides, not the exit code, which would fail the workflow before
 * the exit handler records it).
 *
 * A phase with faults (the chaos phase) has a `faults` step in the same group as its load and
 * tests: `run-faults` runs the phase's schedule with the phase runner's own code
 * (controller/phase-faults.ts) while the load runs, so the gate after it judges the faults'
 * recovery as run-cycle's does. Its pod's main container alone gets `faults.env`
 * (TIERS_FAULTS=chaos-mesh on the cluster), and the ServiceAccount's token: it creates and deletes
 * the Chaos Mesh resources through the Kubernetes API.
 *
 * The steps that generate HTTP load — `start-cycle` when the plan calibrates (relative mode: its
 * ramp) and each load segment's `run-test` (the `run-load` template; the same command as the tests'
 * `run-test`) — get `load.env` (TIERS_LOAD_JOB_* on the cluster: every stretch of their load an
 * Indexed Job of load-worker pods, as the orchestrator's Deployment runs it) and, with
 * `load.kubeApi`, the ServiceAccount's token to create, read and delete those Jobs. Every other
 * step talks to the store and the SUT only.
 */
import type { CyclePlan, PlanEnvironment, PlanPhase } from "../plan/schema.js";

/**
 * The label the environment's Argo pods carry: `controller` (the chart's `controller.podLabels`) and
 * `step` (the WorkflowTemplate's `podMetadata`), which its NetworkPolicies select for the egress
 * that work needs.
 */
export const ARGO_POD_LABEL = "test-tiers/argo";

export const WORKFLOW_API_VERSION = "argoproj.io/v1alpha1";
/** The workflow parameter holding the cycle's id (default: the Workflow's own name). */
export const CYCLE_ID_PARAMETER = "cycle-id";
/** The verdict a gate reports when its phase aborted the cycle. */
export const ABORTED = "aborted";

type Json = Record<string, unknown>;

export interface EnvVar {
  readonly name: string;
  readonly value: string;
}

export interface WorkflowRenderOptions {
  /** The orchestrator image every step runs. */
  readonly image: string;
  /** Where the steps read the plan (the environment's ConfigMap mount). @default "/etc/tiers/plan.json" */
  readonly planPath?: string;
  /** @default `cycle-<environment id>` */
  readonly name?: string;
  readonly namespace?: string;
  readonly labels?: Readonly<Record<string, string>>;
  /** The ServiceAccount the workflow's pods run as (the chart's `workflow.serviceAccount`). */
  readonly serviceAccountName?: string;
  /** Environment of every step container (TIERS_DATA_DIR, TIERS_ENVIRONMENT, TIERS_SUT_URL, …). */
  readonly env?: readonly EnvVar[];
  readonly volumes?: readonly Json[];
  readonly volumeMounts?: readonly Json[];
  readonly podSecurityContext?: Json;
  readonly containerSecurityContext?: Json;
  /** `{requests: {cpu, memory}, limits: {cpu, memory}}` of every step container. */
  readonly resources?: Json;
  /** Pods of the workflow (e.g. affinity to the node holding the environment's volume). */
  readonly affinity?: Json;
  /** Where a step writes an output parameter inside its container. @default "/tmp" */
  readonly outputDir?: string;
  /**
   * The `run-faults` step's pod (rendered only when a phase has faults): what its container adds to
   * `env` (TIERS_FAULTS=chaos-mesh on the cluster), and whether its containers get the
   * ServiceAccount's token for the Kubernetes API (`kubeApi`, the template's
   * `automountServiceAccountToken: true` over the spec's false).
   */
  readonly faults?: { readonly env?: readonly EnvVar[]; readonly kubeApi?: boolean };
  /**
   * The load-generating steps' pods: `start-cycle` when the plan calibrates (load_mode relative)
   * and every load segment's (`run-load`). What their containers add to `env` (TIERS_LOAD_JOB_* on
   * the cluster, so their load runs as Jobs), and whether they get the ServiceAccount's token to
   * create those Jobs (`kubeApi`, the template's `automountServiceAccountToken: true`).
   */
  readonly load?: { readonly env?: readonly EnvVar[]; readonly kubeApi?: boolean };
}

export interface WorkflowTemplateBody {
  readonly apiVersion: typeof WORKFLOW_API_VERSION;
  readonly kind: "WorkflowTemplate";
  readonly metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  readonly spec: Json;
  readonly [key: string]: unknown;
}

/**
 * The ids `orchestrator run-test` accepts for a phase, in the order the phase lists them: its load
 * segments first (`<phase>/load`, or `<phase>/load@<n>` per step of a variable profile, those with
 * load), then its tests. The same ids as the orchestrator's `phaseSteps` (a test checks it).
 */
export function phaseStepIds(phase: PlanPhase): string[] {
  const load = phase.load;
  const segments: { rate: number }[] =
    load.kind === "none"
      ? []
      : load.kind === "constant"
        ? [{ rate: load.rps ?? load.fraction ?? 0 }]
        : load.steps.map((s) => ({ rate: s.rps ?? s.fraction ?? 0 }));
  const ids = segments.flatMap((s, i) =>
    s.rate > 0 ? [segments.length === 1 ? `${phase.name}/load` : `${phase.name}/load@${i + 1}`] : [],
  );
  return [...ids, ...phase.tests.map((t) => t.id)];
}

/** A step name Argo accepts (`[a-zA-Z0-9][-a-zA-Z0-9]*`) for a test id, e.g. `baseline/load@2` → `load-2`. */
export function stepName(testId: string): string {
  const local = testId.slice(testId.indexOf("/") + 1);
  return local.replace(/[^A-Za-z0-9-]+/g, "-").replace(/^-+|-+$/g, "") || "step";
}

/** The step of a phase's group that runs its faults (a test whose step would be named so too is refused). */
export const FAULTS_STEP = "faults";

/** The template of the load segments' steps (`run-test` of a `<phase>/load` id), apart from the tests'. */
export const LOAD_STEP_TEMPLATE = "run-load";

/** Whether a step id of `phase` is one of its load segments (`<phase>/load`, `<phase>/load@<n>`). */
function isLoadStep(phase: PlanPhase, id: string): boolean {
  return id === `${phase.name}/load` || id.startsWith(`${phase.name}/load@`);
}

/** The template of one phase's steps. */
export function phaseTemplateName(phase: PlanPhase): string {
  return `phase-${phase.name}`;
}

/** Renders the plan's environment `environmentId` as a WorkflowTemplate. */
export function renderWorkflowTemplate(
  plan: CyclePlan,
  environmentId: string,
  options: WorkflowRenderOptions,
): WorkflowTemplateBody {
  const environment = plan.environments.find((e) => e.id === environmentId);
  if (!environment) {
    throw new Error(
      `the plan has no environment ${environmentId} (it has ${plan.environments.map((e) => e.id).join(", ")})`,
    );
  }
  const planPath = options.planPath ?? "/etc/tiers/plan.json";
  const outDir = options.outputDir ?? "/tmp";
  const cycle = `{{workflow.parameters.${CYCLE_ID_PARAMETER}}}`;

  const container = (args: string[], extraEnv: readonly EnvVar[] = []): Json => {
    const env = [...(options.env ?? []).filter((e) => !extraEnv.some((x) => x.name === e.name)), ...extraEnv];
    return {
      // Argo's name for a template's container (what `kubectl logs -c main` finds).
      name: "main",
      image: options.image,
      command: ["orchestrator"],
      args,
      ...(env.length ? { env: env.map((e) => ({ ...e })) } : {}),
      ...(options.resources ? { resources: options.resources } : {}),
      ...(options.containerSecurityContext ? { securityContext: options.containerSecurityContext } : {}),
      ...(options.volumeMounts?.length ? { volumeMounts: [...options.volumeMounts] } : {}),
    };
  };
  // A load-generating step's pod: the load's variables, and the token when its Jobs need the API.
  const loadPod = (args: string[]): Json => ({
    ...(options.load?.kubeApi ? { automountServiceAccountToken: true } : {}),
    container: container(args, options.load?.env ?? []),
  });
  const calibrates = plan.options.load_mode === "relative";
  const hasLoad = environment.phases.some((p) => phaseStepIds(p).some((id) => isLoadStep(p, id)));
  const verdictOutput = (file: string): Json => ({
    parameters: [{ name: "verdict", valueFrom: { path: `${outDir}/${file}` } }],
  });

  const templates: Json[] = [
    {
      name: "cycle",
      steps: [
        [{ name: "start-cycle", template: "start-cycle" }],
        [{ name: environment.phases[0]!.name, template: phaseTemplateName(environment.phases[0]!) }],
      ],
    },
    ...environment.phases.flatMap((phase, i) =>
      phaseTemplates(environment, phase, environment.phases[i + 1]),
    ),
    {
      name: "start-cycle",
      // Relative mode: start-cycle's calibration ramp is load (orchestrator start-cycle).
      ...(calibrates
        ? loadPod(["start-cycle", planPath, "--cycle-id", cycle])
        : { container: container(["start-cycle", planPath, "--cycle-id", cycle]) }),
    },
    {
      name: "run-test",
      inputs: { parameters: [{ name: "test" }] },
      container: container(["run-test", planPath, "--cycle", cycle, "--test", "{{inputs.parameters.test}}"]),
    },
    ...(hasLoad
      ? [
          {
            name: LOAD_STEP_TEMPLATE,
            inputs: { parameters: [{ name: "test" }] },
            ...loadPod(["run-test", planPath, "--cycle", cycle, "--test", "{{inputs.parameters.test}}"]),
          },
        ]
      : []),
    ...(environment.phases.some((p) => p.faults.length > 0)
      ? [
          {
            name: "run-faults",
            inputs: { parameters: [{ name: "phase" }] },
            // The one step that calls the Kubernetes API (Chaos Mesh's resources) gets the token.
            ...(options.faults?.kubeApi ? { automountServiceAccountToken: true } : {}),
            container: container(
              ["run-faults", planPath, "--cycle", cycle, "--phase", "{{inputs.parameters.phase}}"],
              options.faults?.env ?? [],
            ),
          },
        ]
      : []),
    {
      name: "gate",
      inputs: { parameters: [{ name: "phase" }] },
      outputs: verdictOutput("verdict"),
      container: container([
        "gate",
        planPath,
        "--cycle",
        cycle,
        "--phase",
        "{{inputs.parameters.phase}}",
        "--verdict-out",
        "{{outputs.parameters.verdict.path}}",
      ]),
    },
    {
      name: "exit-handler",
      steps: [[{ name: "finish-cycle", template: "finish-cycle" }], [{ name: "export", template: "export" }]],
    },
    {
      name: "finish-cycle",
      outputs: verdictOutput("verdict"),
      container: container([
        "finish-cycle",
        "--plan",
        planPath,
        "--cycle",
        cycle,
        "--verdict-out",
        "{{outputs.parameters.verdict.path}}",
      ]),
    },
    { name: "export", container: container(["export", cycle]) },
  ];

  const name = options.name ?? `cycle-${environment.id}`;
  return {
    apiVersion: WORKFLOW_API_VERSION,
    kind: "WorkflowTemplate",
    metadata: {
      name,
      ...(options.namespace !== undefined ? { namespace: options.namespace } : {}),
      ...(options.labels ? { labels: { ...options.labels } } : {}),
    },
    spec: {
      entrypoint: "cycle",
      onExit: "exit-handler",
      arguments: { parameters: [{ name: CYCLE_ID_PARAMETER, value: "{{workflow.name}}" }] },
      // The steps talk to the environment's store and SUT: only Argo's executor (the wait
      // container, which reports outputs) gets the ServiceAccount's token, and the templates that
      // call the Kubernetes API (run-faults, the load steps' Jobs) set their own `true`.
      ...(options.serviceAccountName !== undefined
        ? {
            serviceAccountName: options.serviceAccountName,
            automountServiceAccountToken: false,
            executor: { serviceAccountName: options.serviceAccountName },
          }
        : {}),
      ...(options.podSecurityContext ? { securityContext: options.podSecurityContext } : {}),
      ...(options.affinity ? { affinity: options.affinity } : {}),
      ...(options.volumes?.length ? { volumes: [...options.volumes] } : {}),
      podMetadata: {
        labels: {
          ...(options.labels ?? {}),
          "app.kubernetes.io/component": "cycle-step",
          // The environment's NetworkPolicies let these pods reach the API server and, for the
          // export step, the bundle bucket (components/environment/network-policies.ts).
          [ARGO_POD_LABEL]: "step",
        },
      },
      // Finished workflows keep their pods' logs until the controller's TTL, not for ever.
      ttlStrategy: { secondsAfterCompletion: 86_400 },
      podGC: { strategy: "OnWorkflowSuccess" },
      templates,
    },
  };
}

function phaseTemplates(environment: PlanEnvironment, phase: PlanPhase, next: PlanPhase | undefined): Json[] {
  const ids = phaseStepIds(phase);
  const runTest = (id: string): Json => ({
    name: stepName(id),
    template: isLoadStep(phase, id) ? LOAD_STEP_TEMPLATE : "run-test",
    arguments: { parameters: [{ name: "test", value: id }] },
  });
  const loads = ids.filter((id) => isLoadStep(phase, id));
  const tests = ids.filter((id) => !loads.includes(id));
  const out: Json[] = [];
  const group: Json[] = [];
  // A variable profile's segments follow one another, as in run-cycle; the load runs beside the tests.
  if (loads.length === 1) group.push(runTest(loads[0]!));
  else if (loads.length > 1) {
    const name = `${phaseTemplateName(phase)}-load`;
    out.push({ name, steps: loads.map((id) => [runTest(id)]) });
    group.push({ name: "load", template: name });
  }
  group.push(...tests.map(runTest));
  // The phase's faults beside its load and tests, before the gate that judges their recovery.
  const faults = phase.faults.length > 0;
  if (faults)
    group.push({
      name: FAULTS_STEP,
      template: "run-faults",
      arguments: { parameters: [{ name: "phase", value: phase.name }] },
    });
  const steps: Json[][] = [];
  if (group.length > 0) steps.push(group);
  steps.push([
    { name: "gate", template: "gate", arguments: { parameters: [{ name: "phase", value: phase.name }] } },
  ]);
  if (next) {
    steps.push([
      {
        name: `next-${next.name}`,
        template: phaseTemplateName(next),
        when: `{{steps.gate.outputs.parameters.verdict}} != ${ABORTED}`,
      },
    ]);
  }
  const names = steps.flat().map((s) => s.name as string);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined)
    throw new Error(`phase ${phase.name}: two steps would be named ${twice} (test ids ${ids.join(", ")})`);
  // The phase's tests in parallel up to the environment's limit; the load and the faults are not
  // among them (each runs for the whole phase beside the tests).
  out.unshift({
    name: phaseTemplateName(phase),
    parallelism: environment.max_parallel + (loads.length > 0 ? 1 : 0) + (faults ? 1 : 0),
    steps,
  });
  return out;
}
