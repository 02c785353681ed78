import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseDocument, type Document } from "yaml";
import { ConfigError, describeValue, type ConfigIssue } from "../../tiers/config/issues.js";
import { parseYamlText, type YamlSource } from "../../tiers/config/yaml-source.js";
import { isTierName, OWNER_EXPECTED, ownerProblem } from "../../tiers/infra/identity.js";
import type { CyclePlan } from "../../tiers/plan/schema.js";
import { TIER_NAMES, type TierName } from "../../tiers/schema/names.js";
import { resolveStack } from "../../stacks/config/resolve.js";
import { key } from "../../stacks/config/schema.js";
import { PROJECT_DIR } from "../../stacks/config/source.js";
import { resolveDbLocation } from "../../workloads/central/db/location.js";
import { resolveCentralChoice, type CentralChoice } from "./central-stack.js";
import { FAIL_ON, type FailOn } from "../cycle/summary.js";
import {
  DEFAULT_RUN_OUT,
  DEFAULT_TTL,
  DURATION_EXPECTED,
  ephemeralStackName,
  formatExpiry,
  MAX_TTL_HOURS,
  parseDuration,
  STACK_TAGS,
} from "./stack-names.js";

/** `tiers run`'s flags, as commander gives them. */
export interface RunFlags {
  readonly ephemeral?: boolean;
  readonly ttl?: string;
  readonly tier?: string;
  readonly keepStack?: boolean;
  readonly central?: string;
  readonly owner?: string;
  readonly timeScale?: string;
  readonly out?: string;
  readonly failOn?: string;
  readonly projectDir?: string;
}

export interface RunOptions {
  /** The stack the run uses: `<tier>-<yyyymmdd>-<hhmm>` when ephemeral, else the one named. */
  readonly stackName: string;
  /** The stack file the config comes from (the template of an ephemeral stack). */
  readonly templateFile: string;
  readonly ephemeral: boolean;
  readonly keepStack: boolean;
  readonly projectDir: string;
  /** What the ephemeral stack's file starts as: the template, verbatim, under a header. */
  readonly stackFileText?: string;
  readonly stackFile: string;
  /** Set on the stack before `up` (`pulumi config set-all --path`). */
  readonly config: Readonly<Record<string, string>>;
  readonly tags: Readonly<Record<string, string>>;
  readonly expiresAt?: string;
  readonly plan: CyclePlan;
  readonly outDir: string;
  readonly failOn: FailOn;
  /** Where the bundles go (`--central`, else TIERS_DB_URL, else the default database). */
  readonly central: CentralChoice;
}

/**
 * Resolves `tiers run <stack>`: the stack (an ephemeral one named from the tier and the time, made
 * from `<stack>`'s file as its template, with owner, expiry and forceDestroy set; or `<stack>`
 * itself), its plan as the program will compile it, and the runner's flags. Every problem at once
 * (exit 3), before any command reaches Pulumi.
 */
export function resolveRunOptions(
  stackArg: string,
  flags: RunFlags,
  env: NodeJS.ProcessEnv = process.env,
  now: Date = new Date(),
): RunOptions {
  const issues: ConfigIssue[] = [];
  const flag = (path: string, value: unknown, message: string, expected: string): void => {
    issues.push({ file: "command line", path, message, got: describeValue(value), expected });
  };
  const projectDir = resolve(flags.projectDir ?? env.TIERS_PROJECT_DIR ?? PROJECT_DIR);
  const stacksDir = join(projectDir, "stacks");
  const templateFile = join(stacksDir, `Pulumi.${stackArg}.yaml`);
  const ephemeral = flags.ephemeral ?? false;

  const failOn = flags.failOn ?? "gate";
  if (!(FAIL_ON as readonly string[]).includes(failOn))
    flag("--fail-on", failOn, "unknown value", FAIL_ON.join(", "));
  if (flags.tier !== undefined && !isTierName(flags.tier))
    flag("--tier", flags.tier, "unknown tier", TIER_NAMES.join(", "));
  let timeScale: number | undefined;
  if (flags.timeScale !== undefined) {
    timeScale = Number(flags.timeScale);
    if (!(timeScale > 0 && timeScale <= 10))
      flag("--time-scale", flags.timeScale, "not a time scale", "a number above 0, at most 10");
  }
  const ttlText = flags.ttl ?? DEFAULT_TTL;
  const ttlMs = parseDuration(ttlText);
  if (flags.ttl !== undefined && !ephemeral)
    flag("--ttl", flags.ttl, "applies only to an ephemeral stack", "--ephemeral with --ttl");
  if (flags.keepStack && !ephemeral)
    flag(
      "--keep-stack",
      true,
      "applies only to an ephemeral stack (others are always kept)",
      "--ephemeral with --keep-stack",
    );
  if (ttlMs === undefined) flag("--ttl", ttlText, "not a duration", DURATION_EXPECTED);
  else if (ttlMs > MAX_TTL_HOURS * 3_600_000)
    flag(
      "--ttl",
      ttlText,
      `longer than the ${MAX_TTL_HOURS} h an ephemeral stack may live (policy ephemeral-expiry)`,
      `at most ${MAX_TTL_HOURS}h`,
    );
  if (flags.owner !== undefined && ownerProblem(flags.owner))
    flag("--owner", flags.owner, ownerProblem(flags.owner)!, OWNER_EXPECTED);

  let text: string | undefined;
  if (!existsSync(templateFile)) {
    issues.push({
      file: "command line",
      path: "<stack>",
      message: `no stack file ${templateFile}`,
      got: JSON.stringify(stackArg),
      expected: "a stack of this project (stacks/Pulumi.<stack>.yaml)",
    });
  } else text = readFileSync(templateFile, "utf8");
  const parsed = text !== undefined ? parseYamlText(text, templateFile) : undefined;
  if (parsed) issues.push(...parsed.issues);
  if (issues.length > 0 || !parsed?.source) throw new ConfigError(issues, "invalid tiers run options");

  const template = parsed.source;
  const configMap: Record<string, unknown> =
    (template.data as { config?: Record<string, unknown> } | null)?.config ?? {};
  const tier = (flags.tier ?? configMap[key("tier")]) as TierName | undefined;
  const stackName =
    ephemeral && tier !== undefined && isTierName(tier) ? ephemeralStackName(tier, now) : stackArg;
  const stackFile = join(stacksDir, `Pulumi.${stackName}.yaml`);
  if (ephemeral && existsSync(stackFile))
    flag(
      "<stack>",
      stackArg,
      `the ephemeral stack ${stackName} already has a stack file (another run this minute?)`,
      "one run per tier and minute",
    );

  const config: Record<string, string> = {};
  const tags: Record<string, string> = {};
  let expiresAt: string | undefined;
  if (ephemeral) {
    const owner = flags.owner ?? env.TIERS_OWNER ?? (configMap[key("owner")] as string | undefined);
    if (owner === undefined)
      flag(
        "--owner",
        owner,
        "an ephemeral stack needs an owner (policy lifecycle-tags), and its template names none",
        OWNER_EXPECTED,
      );
    expiresAt = formatExpiry(new Date(Math.floor(now.getTime() / 60_000) * 60_000 + (ttlMs ?? 0)));
    if (owner !== undefined) config[key("owner")] = owner;
    config[key("expiresAt")] = expiresAt;
    if (flags.tier !== undefined) config[key("tier")] = flags.tier;
    const mode = (configMap[key("cluster")] as { mode?: string } | undefined)?.mode;
    // Emptied of every version on destroy: a stack made for one run must not outlive its bundles.
    if (mode === "eks") config[`${key("bundles")}.forceDestroy`] = "true";
    Object.assign(tags, {
      [STACK_TAGS.ephemeral]: "true",
      [STACK_TAGS.tier]: tier ?? "",
      [STACK_TAGS.expiresAt]: expiresAt,
      ...(owner !== undefined ? { [STACK_TAGS.owner]: owner } : {}),
    });
  }
  if (issues.length > 0) throw new ConfigError(issues, "invalid tiers run options");

  // The plan exactly as the program will compile it for this stack, with the runner's config applied.
  const doc = parseDocument(text!);
  for (const [k, v] of Object.entries(config))
    doc.setIn(["config", ...k.split(/\.(?=[^:]*$)/)], v === "true" ? true : v);
  const effective = stackSource(doc, templateFile);
  let plan: CyclePlan;
  try {
    plan = resolveStack(stackName, effective, undefined, timeScale !== undefined ? { timeScale } : {}).plan;
  } catch (error) {
    if (error instanceof ConfigError)
      throw new ConfigError(error.issues, `invalid stack configuration in ${templateFile}`);
    throw error;
  }
  return {
    stackName,
    templateFile,
    ephemeral,
    keepStack: flags.keepStack ?? false,
    projectDir,
    stackFile,
    ...(ephemeral
      ? {
          stackFileText: `# Ephemeral stack ${stackName}, made by tiers run from ${templateFile.slice(projectDir.length + 1)}; expires at ${expiresAt}.\n# pulumi stack rm removes this file with the stack.\n${text!}`,
        }
      : {}),
    config,
    tags,
    ...(expiresAt !== undefined ? { expiresAt } : {}),
    plan,
    outDir: resolve(flags.out ?? DEFAULT_RUN_OUT),
    failOn: failOn as FailOn,
    central: resolveCentralChoice(resolveDbLocation(flags.central, env), projectDir, env),
  };
}

/** A stack file's `config:` as the program's config source (values typed, positions from the file). */
function stackSource(doc: Document, file: string): YamlSource {
  const data = (doc.toJS() as { config?: Record<string, unknown> } | null)?.config ?? {};
  const positions = parseYamlText(doc.toString(), file).source;
  return {
    file,
    data,
    positionOf: (path, options) =>
      positions ? positions.positionOf(["config", ...path], options) : { file },
  };
}
