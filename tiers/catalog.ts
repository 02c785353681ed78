import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { z } from "zod";
import { IssueCollector, type ConfigIssue } from "./config/issues.js";
import { validateSource } from "./config/validate.js";
import { readYamlFile, type YamlSource } from "./config/yaml-source.js";
import { checkContract } from "./contracts/compile.js";
import {
  MonitoringFile,
  PhasesFile,
  TiersFile,
  ToolsFile,
  TopologyFile,
  type Monitoring,
  type PhaseSpec,
  type TierSpec,
  type ToolSpec,
  type Topology,
} from "./schema/catalog.js";
import { ContractsFile, type ContractSpec } from "./schema/contract.js";
import { EnvironmentDefaultsFile, type EnvironmentDefaults } from "./schema/environment-defaults.js";
import { PHASE_NAMES, TIER_NAMES, type PhaseName, type TierName, type ToolName } from "./schema/names.js";

/** The product's data: every figure from the seeds, validated, typed, loaded once. */
export interface Catalog {
  readonly dir: string;
  readonly tiers: Readonly<Record<TierName, TierSpec>>;
  readonly phases: Readonly<Record<PhaseName, PhaseSpec>>;
  readonly topology: Topology;
  readonly monitoring: Monitoring;
  readonly tools: Readonly<Record<ToolName, ToolSpec>>;
  readonly contracts: Readonly<Record<string, ContractSpec>>;
  readonly environmentDefaults: EnvironmentDefaults;
  readonly defaultSuitePath: string;
}

/** The catalog shipped in `tiers/catalog/`. */
export const BUILTIN_CATALOG_DIR = join(dirname(fileURLToPath(import.meta.url)), "catalog");

const cache = new Map<string, Catalog>();

/**
 * Loads and cross-checks the catalog in `dir`. Every problem in every file is reported at once
 * (a `ConfigError`); nothing is returned half-loaded. The built-in catalog is loaded once per process.
 */
export function loadCatalog(dir: string = BUILTIN_CATALOG_DIR): Catalog {
  const cached = cache.get(dir);
  if (cached) return cached;
  const issues = new IssueCollector();
  const read = <S extends z.ZodType>(
    file: string,
    schema: S,
  ): { value?: z.output<S>; source?: YamlSource } => {
    const { source, issues: parseIssues } = readYamlFile(join(dir, file));
    issues.addAll(parseIssues);
    if (!source) return {};
    const r = validateSource(schema, source);
    issues.addAll(r.issues);
    return { value: r.value, source };
  };

  const tiersF = read("tiers.yaml", TiersFile);
  const phasesF = read("phases.yaml", PhasesFile);
  const topologyF = read("topology.yaml", TopologyFile);
  const monitoringF = read("monitoring.yaml", MonitoringFile);
  const toolsF = read("tools.yaml", ToolsFile);
  const contractsF = read("contracts.yaml", ContractsFile);
  const envF = read("environments.yaml", EnvironmentDefaultsFile);

  // Cross-file checks run on every file that is itself well formed, so one load reports everything.
  const contracts = contractsF.value?.contracts;
  if (contracts) {
    for (const [name, spec] of Object.entries(contracts)) {
      for (const p of checkContract(spec))
        issues.add(at(contractsF.source!, ["contracts", name, ...p.path], p));
    }
  }
  if (contracts && toolsF.value) {
    for (const [tool, spec] of Object.entries(toolsF.value.tools)) {
      if (spec.default_contract !== null && !(spec.default_contract in contracts)) {
        issues.add(
          at(toolsF.source!, ["tools", tool, "default_contract"], {
            message: "names no contract of contracts.yaml",
            got: JSON.stringify(spec.default_contract),
            expected: `one of ${Object.keys(contracts).join(", ")}`,
          }),
        );
      }
    }
  }
  if (monitoringF.value) {
    for (const problem of gateReferenceProblems(monitoringF.value)) {
      issues.add(at(monitoringF.source!, problem.path, problem));
    }
  }
  if (tiersF.value) {
    for (const t of TIER_NAMES) {
      const tier = tiersF.value.tiers[t];
      if (tier.failure_injection !== tier.phases.includes("chaos")) {
        issues.add(
          at(tiersF.source!, ["tiers", t, "failure_injection"], {
            message: "failure_injection must be true exactly when the tier runs the chaos phase",
          }),
        );
      }
    }
  }
  issues.throwIfAny(`invalid catalog in ${dir}`);

  const phases = Object.fromEntries(phasesF.value!.phases.map((p) => [p.name, p])) as Record<
    PhaseName,
    PhaseSpec
  >;
  const catalog: Catalog = {
    dir,
    tiers: tiersF.value!.tiers,
    phases,
    topology: topologyF.value!,
    monitoring: monitoringF.value!,
    tools: toolsF.value!.tools,
    contracts: contracts!,
    environmentDefaults: envF.value!.environment_defaults,
    defaultSuitePath: join(dir, "suites", "default.yaml"),
  };
  cache.set(dir, catalog);
  return catalog;
}

function at(
  source: YamlSource,
  path: readonly PropertyKey[],
  p: { message: string; got?: string; expected?: string },
): ConfigIssue {
  return {
    ...source.positionOf(path),
    path: path
      .map((k, i) => (typeof k === "number" ? `[${k}]` : i === 0 ? String(k) : `.${String(k)}`))
      .join(""),
    message: p.message,
    ...(p.got !== undefined ? { got: p.got } : {}),
    ...(p.expected !== undefined ? { expected: p.expected } : {}),
  };
}

function gateReferenceProblems(
  monitoring: Monitoring,
): { path: PropertyKey[]; message: string; got: string; expected: string }[] {
  const problems: { path: PropertyKey[]; message: string; got: string; expected: string }[] = [];
  for (const key of ["default", ...PHASE_NAMES] as const) {
    for (const [i, rule] of (monitoring.gates[key] ?? []).entries()) {
      const p = gateRefProblem(monitoring, rule.when);
      if (p) problems.push({ path: ["gates", key, i, "when"], ...p });
    }
  }
  return problems;
}

/** Checks that `alert:X` / `rollback:y` names an existing alert or rollback strategy. */
export function gateRefProblem(
  monitoring: Monitoring,
  when: unknown,
): { message: string; got: string; expected: string } | undefined {
  if (typeof when !== "string") return undefined;
  const m = /^(alert|rollback):(.+)$/.exec(when);
  if (!m) return undefined;
  const names =
    m[1] === "alert"
      ? monitoring.alerts.map((a) => a.name)
      : monitoring.rollback.strategies.map((s) => s.name);
  if (names.includes(m[2]!)) return undefined;
  return {
    message: `names no ${m[1] === "alert" ? "alert" : "rollback strategy"} of the catalog`,
    got: JSON.stringify(when),
    expected: `one of ${names.map((n) => `${m[1]}:${n}`).join(", ")}`,
  };
}
