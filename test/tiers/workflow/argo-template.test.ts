import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { environmentWorkflowTemplate, loadJobEnv } from "../../../components/environment/workflow-options.js";
import { ExitCode } from "../../../tiers/errors.js";
import { DEFAULT_IMAGES, DEFAULT_SUT_PORT, IPERF3_PORT } from "../../../tiers/infra/defaults.js";
import type { WorkflowTemplateBody } from "../../../tiers/workflow/argo.js";
import { runTiers } from "../../helpers/cli.js";
import { crdDirectory, validateCustomResource } from "../../../runners/infra/custom-resources.js";
import type { TierName } from "../../../tiers/schema/names.js";
import {
  FAULTS_STEP,
  LOAD_STEP_TEMPLATE,
  phaseStepIds,
  renderWorkflowTemplate,
  stepName,
} from "../../../tiers/workflow/argo.js";
import { phaseSteps } from "../../../workloads/orchestrator/controller/steps.js";
import { testPlan } from "../../helpers/orchestrator.js";

const TIERS: TierName[] = ["base", "stress", "chaos", "ultimate"];
const crds = crdDirectory();

describe("the plan as an Argo WorkflowTemplate", () => {
  it.each(TIERS)("%s: every environment's template validates against Argo's schema", async (tier) => {
    // Relative mode too: start-cycle then generates load (its calibration) and gets the token.
    for (const plan of [testPlan({ tier }), testPlan({ tier, load_mode: "relative" })])
      for (const e of plan.environments) {
        const body = renderWorkflowTemplate(plan, e.id, {
          image: "ghcr.io/test-tiers/orchestrator:0.1.0",
          namespace: `tiers-${e.id}`,
          serviceAccountName: "argo-workflow",
          env: [{ name: "TIERS_ENVIRONMENT", value: e.id }],
          faults: { env: [{ name: "TIERS_FAULTS", value: "chaos-mesh" }], kubeApi: true },
          load: { env: loadJobEnv("ghcr.io/test-tiers/orchestrator:0.1.0", 4), kubeApi: true },
          resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "1Gi" } },
        });
        const templates = body.spec.templates as Record<string, unknown>[];
        expect(templates.filter((t) => t.automountServiceAccountToken === true).length).toBeGreaterThan(0);
        const check = await validateCustomResource(body);
        expect(check.problems).toStrictEqual([]);
        expect(check.checkedBy).toContain("package @kubernetes-models/argo-workflows");
        if (crds) expect(check.checkedBy).toContain("crd argoproj.io_workflowtemplates.yaml");
      }
    if (!crds)
      console.log(
        "skipped: Argo's CRD file (../shared/reference/crds absent); the package's schema checked it",
      );
  });

  it("a schema violation is found (the check can fail)", async () => {
    const plan = testPlan({ tier: "base" });
    const body = renderWorkflowTemplate(plan, plan.environments[0]!.id, { image: "x:1" });
    const broken = { ...body, spec: { ...body.spec, parallelism: "four" } };
    const check = await validateCustomResource(broken);
    expect(check.problems.join("\n")).toContain("parallelism");
    // A template's automountServiceAccountToken is typed by the schema too.
    const templates = (body.spec.templates as Record<string, unknown>[]).map((t) =>
      t.name === LOAD_STEP_TEMPLATE ? { ...t, automountServiceAccountToken: "yes" } : t,
    );
    const wrong = await validateCustomResource({ ...body, spec: { ...body.spec, templates } });
    expect(wrong.problems.join("\n")).toContain("automountServiceAccountToken");
  });

  it.each(TIERS)("%s: the run-test ids are the orchestrator's own step ids, phase by phase", (tier) => {
    const plan = testPlan({ tier });
    for (const phase of plan.environments[0]!.phases)
      expect(phaseStepIds(phase)).toStrictEqual(phaseSteps(plan, phase, null).map((t) => t.id));
  });

  it("runs phases in order, each after its predecessor's gate, tests in parallel up to max_parallel", () => {
    const plan = testPlan({ tier: "chaos" });
    const env = plan.environments[0]!;
    const body = renderWorkflowTemplate(plan, env.id, { image: "x:1" });
    const templates = body.spec.templates as Record<string, unknown>[];
    const byName = new Map(templates.map((t) => [t.name as string, t]));
    expect(body.spec.entrypoint).toBe("cycle");
    expect(body.spec.onExit).toBe("exit-handler");
    for (const [i, phase] of env.phases.entries()) {
      const t = byName.get(`phase-${phase.name}`)!;
      const steps = t.steps as { name: string; template: string; when?: string }[][];
      const hasLoad = phase.load.kind !== "none";
      const hasFaults = phase.faults.length > 0;
      expect(t.parallelism).toBe(env.max_parallel + (hasLoad ? 1 : 0) + (hasFaults ? 1 : 0));
      const gateAt = steps.findIndex((g) => g.some((s) => s.template === "gate"));
      const next = env.phases[i + 1];
      if (next) {
        expect(steps[gateAt + 1]).toStrictEqual([
          {
            name: `next-${next.name}`,
            template: `phase-${next.name}`,
            when: "{{steps.gate.outputs.parameters.verdict}} != aborted",
          },
        ]);
      } else expect(steps.length).toBe(gateAt + 1);
      const tests = steps.slice(0, gateAt).flat();
      expect(tests.map((s) => s.name)).toStrictEqual([
        ...(phase.load.kind === "variable" ? ["load"] : phase.load.kind === "constant" ? ["load"] : []),
        ...phase.tests.map((x) => stepName(x.id)),
        // The chaos phase's faults: one step beside its load and tests, in the same group.
        ...(hasFaults ? [FAULTS_STEP] : []),
      ]);
      // A load segment runs the run-load template (its own pod: load Jobs), every test run-test.
      for (const s of tests.filter((x) => x.name !== FAULTS_STEP))
        expect(s.template, s.name).toBe(
          s.name === "load"
            ? phase.load.kind === "variable"
              ? `phase-${phase.name}-load`
              : LOAD_STEP_TEMPLATE
            : "run-test",
        );
      if (phase.load.kind === "variable")
        expect(
          (byName.get(`phase-${phase.name}-load`)!.steps as { template: string }[][])
            .flat()
            .map((s) => s.template),
        ).toStrictEqual(
          phaseStepIds(phase)
            .filter((id) => id.includes("/load"))
            .map(() => LOAD_STEP_TEMPLATE),
        );
      if (hasFaults) {
        expect(steps.slice(0, gateAt)).toHaveLength(1);
        expect(tests.find((s) => s.name === FAULTS_STEP)).toStrictEqual({
          name: FAULTS_STEP,
          template: "run-faults",
          arguments: { parameters: [{ name: "phase", value: phase.name }] },
        });
      }
    }
    expect(env.phases.some((p) => p.faults.length > 0)).toBe(true);
    const exit = byName.get("exit-handler")!.steps as { template: string }[][];
    expect(exit.map((g) => g.map((s) => s.template))).toStrictEqual([["finish-cycle"], ["export"]]);
    // Every container runs the orchestrator's step commands, nothing else.
    const commands = templates
      .filter((t) => t.container)
      .map((t) => {
        const c = t.container as { command: string[]; args: string[] };
        return [...c.command, c.args[0]].join(" ");
      });
    expect(commands.sort()).toStrictEqual(
      // run-test twice: the tests' template and the load segments' (run-load).
      ["export", "finish-cycle", "gate", "run-faults", "run-test", "run-test", "start-cycle"].map(
        (c) => `orchestrator ${c}`,
      ),
    );
  });

  it("the environment's template: only the run-faults step gets the ServiceAccount's token and TIERS_FAULTS; a plan without faults has no such step", () => {
    const step = (tier: TierName) => {
      const plan = testPlan({ tier });
      const e = plan.environments[0]!;
      const body = environmentWorkflowTemplate(plan, {
        image: DEFAULT_IMAGES.orchestrator,
        environment: e.id,
        tier,
        region: e.region,
        sutPort: DEFAULT_SUT_PORT,
        iperf3Port: IPERF3_PORT,
      });
      return { body, templates: body.spec.templates as Record<string, unknown>[] };
    };
    const chaos = step("chaos");
    expect(chaos.body.spec).toMatchObject({
      serviceAccountName: "argo-workflow",
      automountServiceAccountToken: false,
    });
    const withToken = chaos.templates.filter((t) => t.automountServiceAccountToken !== undefined);
    expect(withToken.map((t) => [t.name, t.automountServiceAccountToken])).toStrictEqual([
      ["run-faults", true],
    ]);
    const envOf = (t: Record<string, unknown>) =>
      ((t.container as { env: { name: string; value: string }[] }).env ?? []).filter(
        (v) => v.name === "TIERS_FAULTS",
      );
    for (const t of chaos.templates.filter((x) => x.container))
      expect(envOf(t)).toStrictEqual(
        t.name === "run-faults" ? [{ name: "TIERS_FAULTS", value: "chaos-mesh" }] : [],
      );
    const base = step("base");
    expect(base.templates.map((t) => t.name)).not.toContain("run-faults");
    expect(base.templates.filter((t) => t.automountServiceAccountToken !== undefined)).toStrictEqual([]);
  });

  it.each(["absolute", "relative"] as const)(
    "the environment's template with room for load workers (%s): the load steps alone get the orchestrator's TIERS_LOAD_JOB_* and the token",
    (mode) => {
      const plan = testPlan({ tier: "chaos", load_mode: mode });
      const e = plan.environments[0]!;
      const render = (loadJobWorkers?: number) =>
        environmentWorkflowTemplate(plan, {
          image: DEFAULT_IMAGES.orchestrator,
          environment: e.id,
          tier: "chaos",
          region: e.region,
          sutPort: DEFAULT_SUT_PORT,
          iperf3Port: IPERF3_PORT,
          ...(loadJobWorkers !== undefined ? { loadJobWorkers } : {}),
        }).spec.templates as Record<string, unknown>[];
      const loadVars = (t: Record<string, unknown>) =>
        ((t.container as { env?: { name: string; value: string }[] }).env ?? []).filter((v) =>
          v.name.startsWith("TIERS_LOAD_"),
        );
      // start-cycle generates load only when it calibrates (relative mode).
      const loaders = [...(mode === "relative" ? ["start-cycle"] : []), LOAD_STEP_TEMPLATE];
      const templates = render(3);
      for (const t of templates.filter((x) => x.container))
        expect(loadVars(t), t.name as string).toStrictEqual(
          loaders.includes(t.name as string) ? loadJobEnv(DEFAULT_IMAGES.orchestrator, 3) : [],
        );
      expect(
        templates
          .filter((t) => t.automountServiceAccountToken !== undefined)
          .map((t) => [t.name, t.automountServiceAccountToken]),
      ).toStrictEqual([...loaders.map((n) => [n, true]), ["run-faults", true]]);
      // The same command as the tests' run-test, for the segment its step names.
      const load = templates.find((t) => t.name === LOAD_STEP_TEMPLATE)!;
      const tests = templates.find((t) => t.name === "run-test")!;
      expect((load.container as { args: string[] }).args).toStrictEqual(
        (tests.container as { args: string[] }).args,
      );
      expect(load.inputs).toStrictEqual(tests.inputs);
      // No room for a worker pod (or none given): the steps generate their load in their own pods.
      for (const none of [render(0), render()]) {
        for (const t of none.filter((x) => x.container)) expect(loadVars(t)).toStrictEqual([]);
        expect(
          none.filter((t) => t.automountServiceAccountToken !== undefined).map((t) => t.name),
        ).toStrictEqual(["run-faults"]);
      }
    },
  );

  it("refuses an environment the plan does not have, naming the ones it has", () => {
    const plan = testPlan({ tier: "base" });
    expect(() => renderWorkflowTemplate(plan, "env-9", { image: "x:1" })).toThrow(
      `the plan has no environment env-9 (it has ${plan.environments.map((e) => e.id).join(", ")})`,
    );
  });
});

describe("tiers plan --workflow (real process)", () => {
  it("prints one WorkflowTemplate per environment: the one the environment component applies, valid", async () => {
    const run = await runTiers(["plan", "ultimate", "--workflow"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(ExitCode.Ok);
    const docs = parseAllDocuments(run.stdout).map((d) => d.toJS() as WorkflowTemplateBody);
    const plan = testPlan({ tier: "ultimate", load_mode: "absolute" });
    expect(docs.map((d) => d.metadata.name)).toStrictEqual(plan.environments.map((e) => `cycle-${e.id}`));
    for (const [i, e] of plan.environments.entries()) {
      expect(docs[i]).toStrictEqual(
        environmentWorkflowTemplate(plan, {
          image: DEFAULT_IMAGES.orchestrator,
          environment: e.id,
          tier: "ultimate",
          region: e.region,
          sutPort: DEFAULT_SUT_PORT,
          iperf3Port: IPERF3_PORT,
        }),
      );
      expect((await validateCustomResource(docs[i]!)).problems).toStrictEqual([]);
    }
  }, 120_000);
});
