import type { Command } from "commander";
import { loadCatalog } from "../../../tiers/catalog.js";
import { planFromSources } from "../../../tiers/plan/compile.js";
import type { RawOptions } from "../../../tiers/plan/options.js";
import type { CyclePlan } from "../../../tiers/plan/schema.js";
import { formatDuration } from "../../../tiers/units.js";
import { describeBand, describeGate, describeLoad } from "../../format/plan-text.js";
import { renderTable } from "../../format/table.js";
import { runCommand } from "../run-command.js";
import { stringify } from "yaml";
import { environmentWorkflowTemplate } from "../../../components/environment/workflow-options.js";
import { DEFAULT_IMAGES, DEFAULT_SUT_PORT, IPERF3_PORT } from "../../../tiers/infra/defaults.js";

interface PlanFlags {
  suite?: string;
  suiteName?: string;
  regions?: string;
  timeScale?: string;
  loadMode?: string;
  loadScale?: string;
  seed?: string;
  maxConnections?: string;
  environments?: string;
  json?: boolean;
  workflow?: boolean;
}

/** Options shared by every command that compiles a plan (`plan`, `local`, `run`). */
export function addPlanOptions(cmd: Command): Command {
  return cmd
    .option(
      "--suite <file>",
      "suite file (test_suites, contracts, environments, options); default: built-in suite",
    )
    .option("--suite-name <id>", "which suite of the file to run when it defines several")
    .option("--regions <list>", "comma-separated region codes, one per region of the tier (primary first)")
    .option("--time-scale <x>", "multiply every phase duration by x (seed durations at 1)")
    .option(
      "--load-mode <mode>",
      "absolute (seed RPS) or relative (fractions of the SUT's CPU share, rates from calibration)",
    )
    .option("--load-scale <x>", "multiply every phase's load by x")
    .option("--seed <n>", "seed for the chaos phase's variable load and fault order")
    .option("--max-connections <n>", "cap on connections per load generator")
    .option("--environments <n>", "number of isolated environments (default: one per region)");
}

/** Maps commander's flags to the raw option layer. */
export function rawPlanOptions(tier: string | undefined, flags: PlanFlags): RawOptions {
  const raw: RawOptions = {};
  if (tier !== undefined) raw.tier = tier;
  if (flags.suiteName !== undefined) raw.suite = flags.suiteName;
  if (flags.regions !== undefined) raw.regions = flags.regions;
  if (flags.timeScale !== undefined) raw.time_scale = flags.timeScale;
  if (flags.loadMode !== undefined) raw.load_mode = flags.loadMode;
  if (flags.loadScale !== undefined) raw.load_scale = flags.loadScale;
  if (flags.seed !== undefined) raw.seed = flags.seed;
  if (flags.maxConnections !== undefined) raw.max_connections = flags.maxConnections;
  if (flags.environments !== undefined) raw.environments = flags.environments;
  return raw;
}

export function registerPlanCommand(program: Command): void {
  addPlanOptions(
    program
      .command("plan")
      .description("compile and print a tier's cycle plan and infrastructure sizing")
      .argument("[tier]", "base, stress, chaos or ultimate"),
  )
    .option("--json", "print the plan as JSON")
    .option(
      "--workflow",
      "print each environment's Argo WorkflowTemplate (YAML), as the cluster target applies it",
    )
    .action((tier: string | undefined, flags: PlanFlags) =>
      runCommand(() => {
        const plan = planFromSources({
          ...(flags.suite !== undefined ? { suitePath: flags.suite } : {}),
          defaults: { load_mode: "absolute" },
          env: process.env,
          cli: rawPlanOptions(tier, flags),
        });
        if (flags.workflow) {
          process.stdout.write(renderWorkflows(plan));
          return;
        }
        process.stdout.write(flags.json ? `${JSON.stringify(plan, null, 2)}\n` : `${renderPlan(plan)}\n`);
      }),
    );
}

/**
 * Every environment's WorkflowTemplate, one YAML document each, with the default images and SUT
 * port of a stack (its namespace and labels are the stack's, so they are left out here).
 */
export function renderWorkflows(plan: CyclePlan): string {
  return plan.environments
    .map((e) =>
      stringify(
        environmentWorkflowTemplate(plan, {
          image: DEFAULT_IMAGES.orchestrator,
          environment: e.id,
          tier: plan.tier.name,
          region: e.region,
          sutPort: DEFAULT_SUT_PORT,
          iperf3Port: IPERF3_PORT,
        }),
        { lineWidth: 0 },
      ),
    )
    .map((doc) => `---\n${doc}`)
    .join("");
}

/** The human form of a plan: sizing, regions, environments, then phases × (load, bands, tests, gates). */
export function renderPlan(plan: CyclePlan): string {
  const catalog = loadCatalog();
  const s = plan.tier.sizing;
  const latency =
    s.latency_ms.min !== undefined
      ? `${s.latency_ms.min}-${s.latency_ms.max} ms (variable)`
      : `< ${s.latency_ms.max} ms`;
  const out: string[] = [];
  out.push(`Plan for tier ${plan.tier.name} — ${plan.tier.title}   hash ${plan.hash.slice(0, 12)}`);
  out.push(
    `Sizing per region: ${s.instances}${s.instances_at_least ? "+" : ""} instances × ${s.cpu_cores} cores, ${s.memory_gb} GB memory, ` +
      `${s.storage_gb >= 1000 ? `${s.storage_gb / 1000} TB` : `${s.storage_gb} GB`} ${s.storage_media.toUpperCase()}; ` +
      `network ${s.bandwidth_gbps} Gbps, latency ${latency}`,
  );
  out.push(
    `Suite: ${plan.suite.id} (${plan.suite.source}) · load ${plan.options.load_mode} × ${plan.options.load_scale} · ` +
      `time scale ${plan.options.time_scale} · seed ${plan.options.seed} · max connections ${plan.options.max_connections}`,
  );
  out.push("");
  out.push("Regions");
  out.push(
    renderTable(
      [
        { header: "region" },
        { header: "roles" },
        { header: "components" },
        { header: "capacity", align: "right" },
      ],
      plan.regions.map((r) => [
        r.location,
        r.roles.join(", "),
        r.components.join(", "),
        `${r.capacity_instances} inst.`,
      ]),
    ),
  );
  out.push("");
  out.push("Environments");
  out.push(
    renderTable(
      [
        { header: "id" },
        { header: "name" },
        { header: "region" },
        { header: "role" },
        { header: "parallel", align: "right" },
        { header: "cpu", align: "right" },
        { header: "memory", align: "right" },
      ],
      plan.environments.map((e) => [
        e.id,
        e.name,
        e.region,
        e.role,
        String(e.max_parallel),
        `${e.resources.cpu_millis}m`,
        `${Math.round(e.resources.memory_bytes / 2 ** 20)}Mi`,
      ]),
    ),
  );
  const phases = plan.environments[0]!.phases;
  out.push("");
  out.push("Phases (every environment runs the same cycle)");
  out.push(
    renderTable(
      [
        { header: "#", align: "right" },
        { header: "phase" },
        { header: "duration", align: "right" },
        { header: "load" },
        { header: "conns", align: "right" },
        { header: "cpu band" },
        { header: "mem band" },
        { header: "tests" },
        { header: "faults" },
        { header: "gate" },
      ],
      phases.map((p) => [
        String(p.index + 1),
        p.name,
        formatDuration(p.duration_ms),
        describeLoad(p.load),
        p.load.kind === "none" ? "-" : String(p.load.connections),
        describeBand(p.cpu_band),
        describeBand(p.memory_band),
        p.tests.map((t) => t.name).join(", ") || "-",
        p.faults.map((f) => f.scenario).join(", ") || "-",
        describeGate(p.gate),
      ]),
    ),
  );
  out.push("");
  out.push("Resource scaling matrix (seed 001) for these phases");
  out.push(
    renderTable(
      [
        { header: "phase" },
        { header: "cpu cores", align: "right" },
        { header: "memory GB", align: "right" },
        { header: "network Gbps", align: "right" },
        { header: "storage TB", align: "right" },
        { header: "instances", align: "right" },
      ],
      phases.map((p) => {
        const row = catalog.phases[p.name].scaling;
        return row
          ? [
              p.name,
              String(row.cpu_cores),
              String(row.memory_gb),
              String(row.network_gbps),
              String(row.storage_tb),
              String(row.instances),
            ]
          : [p.name, "variable", "variable", "variable", "variable", "variable"];
      }),
    ),
  );
  out.push("");
  out.push(
    `Total: ${formatDuration(plan.totals.phase_time_ms)} of phases and ${plan.totals.tests_per_environment} tests per environment, ` +
      `${plan.environments.length} environment${plan.environments.length === 1 ? "" : "s"}.`,
  );
  for (const w of plan.warnings) out.push(`warning: ${w}`);
  return out.join("\n");
}
