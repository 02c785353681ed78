import { loadCatalog, type Catalog } from "../catalog.js";
import { IssueCollector } from "../config/issues.js";
import { PHASE_NAMES, type PhaseName } from "../schema/names.js";
import type { SuiteSpec } from "../schema/suite.js";
import { formatDuration } from "../units.js";
import { suiteIssue, type CompileContext } from "./context.js";
import { resolveEnvironments } from "./environments.js";
import { scheduleFaults } from "./faults.js";
import { compileGate } from "./gates.js";
import { hashPlan } from "./hash.js";
import { loadProfile, maxSeedConnections } from "./load.js";
import { issueAtOption, resolvePlanOptions, type OptionLayers, type ResolvedOptions } from "./options.js";
import { resolveRegions } from "./regions.js";
import { PLAN_SCHEMA_VERSION, type CyclePlan, type PlanPhase } from "./schema.js";
import { loadSuiteFile, type LoadedSuiteFile } from "./suite-file.js";
import { checkTests, resolveContracts, usedContracts } from "./tests.js";

/** A phase shorter than this cannot hold a load step, a gate and a sample; the time scale is too small. */
export const MIN_PHASE_MS = 500;

export interface CompileRequest {
  readonly resolved: ResolvedOptions;
  /** The user's suite file; the built-in default suite when absent. */
  readonly suiteFile?: LoadedSuiteFile;
  readonly catalog?: Catalog;
}

/**
 * (tier, topology, environments, suite, options) → CyclePlan. Pure and deterministic: the same
 * inputs give the same plan and the same hash. Every problem is collected and thrown at once as a
 * `ConfigError`; no plan is returned unless everything holds.
 */
export function compilePlan(request: CompileRequest): CyclePlan {
  const catalog = request.catalog ?? loadCatalog();
  const userFile = request.suiteFile ?? loadSuiteFile(catalog.defaultSuitePath);
  const issues = new IssueCollector();
  issues.addAll(request.resolved.issues ?? []);
  const warnings: string[] = [];
  const ctx: CompileContext = { catalog, resolved: request.resolved, suiteFile: userFile, issues, warnings };
  const { options } = request.resolved;
  const tier = catalog.tiers[options.tier];

  // Tests come from the user's file when it has suites, else from the built-in default suite.
  const testsFile = userFile.content.test_suites ? userFile : loadSuiteFile(catalog.defaultSuitePath);
  const testsCtx: CompileContext = { ...ctx, suiteFile: testsFile };
  const picked = pickSuite(testsCtx);

  const regions = resolveRegions(ctx, tier.regions);
  const environments = regions ? resolveEnvironments(ctx, regions) : [];
  const contracts = resolveContracts(ctx);
  if (testsFile !== userFile)
    for (const [k, v] of resolveContracts(testsCtx)) if (!contracts.has(k)) contracts.set(k, v);

  let planPhases: PhaseName[] = [...tier.phases];
  const phases: PlanPhase[] = [];
  if (picked) {
    const { id: suiteId, suite } = picked;
    if (suite.phases) {
      suite.phases.forEach((p, i) => {
        if (!tier.phases.includes(p)) {
          issues.add(
            suiteIssue(testsCtx, ["test_suites", suiteId, "phases", i], {
              message: `tier ${options.tier} does not run phase ${p}`,
              got: JSON.stringify(p),
              expected: `one of ${tier.phases.join(", ")}`,
            }),
          );
        }
      });
      planPhases = tier.phases.filter((p) => suite.phases!.includes(p));
    }
    for (const p of Object.keys(suite.phase_overrides ?? {}) as PhaseName[]) {
      if (!planPhases.includes(p))
        warnings.push(`phase_overrides.${p} is ignored: the plan does not run phase ${p}`);
    }
    const tests = checkTests(testsCtx, suiteId, suite, contracts);
    for (const t of tests) {
      if (t.phases && !t.phases.some((p) => planPhases.includes(p))) {
        warnings.push(
          `test ${t.name} runs in no phase of this plan (${t.phases.join(", ")}); it is left out`,
        );
      }
    }
    const seedConnMax = maxSeedConnections(PHASE_NAMES.map((p) => catalog.phases[p]));
    for (const name of planPhases) {
      const spec = catalog.phases[name];
      const baseSeconds =
        suite.phase_overrides?.[name]?.duration_s ?? spec.duration_s ?? spec.default_duration_s!;
      const duration_ms = Math.round(baseSeconds * 1000 * options.time_scale);
      if (duration_ms < MIN_PHASE_MS) {
        issues.add(
          issueAtOption(request.resolved.origins, "time_scale", {
            message: `phase ${name} (${baseSeconds} s) would last ${duration_ms} ms; phases must last at least ${MIN_PHASE_MS} ms`,
            got: String(options.time_scale),
            expected: `a time scale of at least ${Math.ceil((MIN_PHASE_MS / (baseSeconds * 1000)) * 1e6) / 1e6}`,
          }),
        );
        continue;
      }
      const phaseTests = tests
        .filter((t) => !t.phases || t.phases.includes(name))
        .map((t) => {
          if (t.duration_ms !== undefined && t.duration_ms > duration_ms) {
            warnings.push(
              `test ${t.name} runs ${formatDuration(t.duration_ms)} but phase ${name} lasts ${formatDuration(duration_ms)}; the phase will wait for it`,
            );
          }
          return {
            id: `${name}/${t.name}`,
            name: t.name,
            tool: t.tool,
            contract: t.contract,
            parameters: t.parameters,
            rules: t.rules,
            timeout_ms: t.timeout_ms,
            ...(t.duration_ms !== undefined ? { duration_ms: t.duration_ms } : {}),
          };
        });
      phases.push({
        name,
        index: PHASE_NAMES.indexOf(name),
        title: spec.title,
        duration_ms,
        seed_duration_s: spec.duration_s,
        load: loadProfile(spec, duration_ms, options, seedConnMax),
        cpu_band: spec.cpu_target_pct
          ? { min: spec.cpu_target_pct.min ?? 0, max: spec.cpu_target_pct.max }
          : null,
        memory_band: spec.memory_target_pct
          ? { min: spec.memory_target_pct.min ?? 0, max: spec.memory_target_pct.max }
          : null,
        objectives: [...spec.objectives],
        log_level: spec.log_level,
        trace_sampling: spec.trace_sampling,
        faults:
          tier.failure_injection && spec.scenarios
            ? scheduleFaults(spec.scenarios, duration_ms, options.seed)
            : [],
        tests: phaseTests,
        gate: compileGate(testsCtx, suiteId, suite, name),
      });
    }
  }
  issues.throwIfAny(`invalid plan for tier ${options.tier}`);

  const testsPerEnv = phases.reduce((n, p) => n + p.tests.length, 0);
  const allTests = phases.flatMap((p) => p.tests);
  const plan: CyclePlan = {
    kind: "test-tiers/cycle-plan",
    schema_version: PLAN_SCHEMA_VERSION,
    hash: "",
    tier: {
      name: options.tier,
      title: tier.title,
      failure_injection: tier.failure_injection,
      sizing: {
        instances: tier.compute.instances,
        instances_at_least: tier.compute.instances_at_least,
        cpu_cores: tier.compute.cpu_cores,
        memory_gb: tier.compute.memory_gb,
        storage_gb: tier.compute.storage_gb,
        storage_media: tier.compute.storage_media,
        bandwidth_gbps: tier.network.bandwidth_gbps,
        latency_ms: { ...tier.network.latency_ms },
        latency_variable: tier.network.latency_variable,
      },
    },
    regions: regions!,
    suite: {
      id: picked!.id,
      name: picked!.suite.name,
      source: testsFile.file.startsWith(catalog.dir) ? "builtin:default" : testsFile.file,
    },
    options: {
      time_scale: options.time_scale,
      load_mode: options.load_mode,
      load_scale: options.load_scale,
      seed: options.seed,
      max_connections: options.max_connections,
    },
    monitoring: {
      scrape_interval_s: catalog.monitoring.prometheus.scrape_interval_s,
      retention_days: catalog.monitoring.prometheus.retention_days,
    },
    // The phase load itself is measured under the http-load tool's contract.
    contracts: usedContracts(allTests, contracts, [catalog.tools["http-load"].default_contract!]),
    environments: environments.map((e) => ({ ...e, phases })),
    totals: {
      phase_time_ms: phases.reduce((n, p) => n + p.duration_ms, 0),
      tests_per_environment: testsPerEnv,
    },
    warnings: [...new Set(warnings)],
  };
  return { ...plan, hash: hashPlan(plan) };
}

function pickSuite(ctx: CompileContext): { id: string; suite: SuiteSpec } | undefined {
  const suites = ctx.suiteFile.content.test_suites ?? {};
  const ids = Object.keys(suites);
  const wanted = ctx.resolved.options.suite;
  if (wanted !== undefined) {
    const suite = suites[wanted];
    if (suite) return { id: wanted, suite };
    ctx.issues.add(
      issueAtOption(ctx.resolved.origins, "suite", {
        message: `no suite ${wanted} in ${ctx.suiteFile.file}`,
        got: JSON.stringify(wanted),
        expected: `one of ${ids.join(", ")}`,
      }),
    );
    return undefined;
  }
  if (ids.length === 1) return { id: ids[0]!, suite: suites[ids[0]!]! };
  if (suites.default) return { id: "default", suite: suites.default };
  ctx.issues.add(
    suiteIssue(ctx, ["test_suites"], {
      message: `the file defines ${ids.length} suites; say which one to run`,
      got: ids.join(", "),
      expected: "--suite-name <id> or options.suite",
    }),
  );
  return undefined;
}

export interface PlanFromSourcesRequest {
  /** Path of the user's suite file, if any. */
  readonly suitePath?: string;
  readonly defaults?: OptionLayers["defaults"];
  readonly env?: NodeJS.ProcessEnv;
  readonly cli?: OptionLayers["cli"];
  readonly catalog?: Catalog;
}

/** Loads the suite file, layers the options (defaults < file < env < CLI) and compiles the plan. */
export function planFromSources(request: PlanFromSourcesRequest): CyclePlan {
  const catalog = request.catalog ?? loadCatalog();
  const suiteFile = request.suitePath !== undefined ? loadSuiteFile(request.suitePath) : undefined;
  const fileOptions = suiteFile?.content.options;
  const resolved = resolvePlanOptions({
    defaults: request.defaults ?? {},
    ...(suiteFile && fileOptions ? { file: { source: suiteFile.source, options: fileOptions } } : {}),
    ...(request.env ? { env: request.env } : {}),
    ...(request.cli ? { cli: request.cli } : {}),
  });
  return compilePlan({ resolved, catalog, ...(suiteFile ? { suiteFile } : {}) });
}
