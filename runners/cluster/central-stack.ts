import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type * as automation from "@pulumi/pulumi/automation/index.js";
import { parse } from "yaml";
import { z } from "zod";
import { PROJECT_DIR } from "../../stacks/config/source.js";
import { ExitCode, TiersError } from "../../tiers/errors.js";
import { REPORTS_PREFIX } from "../../components/central/central-policies.js";
import { parseS3Url, type S3Location } from "../../workloads/central/import/s3-inbox.js";
import { describeCommandError, openWorkspace } from "./tier-stack.js";

/**
 * Where a run's bundles go (`tiers run --central`), and where `tiers central --db` reads:
 * - a results database (a SQLite path or `postgres://…`): the runner imports and reports itself;
 * - a central stack (`stack:<name>`, or the name of a stack file of this project whose program is
 *   `central`): its outputs name the inbox bucket, the reports bucket and the database URL;
 * - `s3://<bucket>/<prefix>`: a central inbox named directly (its reports location, if any, with
 *   `TIERS_REPORTS_URL`).
 * The stack name is tried before a path only when `stacks/Pulumi.<name>.yaml` exists and is a
 * central stack, so a database file called `central` next to no such stack file stays a file.
 */
export type CentralChoice =
  | { readonly kind: "database"; readonly location: string }
  | { readonly kind: "stack"; readonly stack: string }
  | { readonly kind: "inbox"; readonly inbox: S3Location; readonly reports?: S3Location };

export const STACK_PREFIX = "stack:";

/** A central stack's outputs the runner and the `tiers central` commands read (stacks/central-program.ts). */
const CentralStackOutputs = z.object({
  stack: z.string(),
  program: z.literal("central"),
  region: z.string(),
  inboxBucket: z.string(),
  inboxPrefix: z.string(),
  reportsBucket: z.string(),
  databaseUrl: z.string(),
});
export type CentralStackOutputs = z.infer<typeof CentralStackOutputs>;

function isCentralStackFile(projectDir: string, name: string): boolean {
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) return false;
  const file = join(projectDir, "stacks", `Pulumi.${name}.yaml`);
  if (!existsSync(file)) return false;
  try {
    const doc = parse(readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | null;
    return doc?.config?.["test-tiers:program"] === "central";
  } catch {
    return false;
  }
}

/** Reads `--central` (or `TIERS_DB_URL`, else the default database) as one of the three kinds. */
export function resolveCentralChoice(
  value: string,
  projectDir: string,
  env: NodeJS.ProcessEnv = process.env,
): CentralChoice {
  if (value.startsWith(STACK_PREFIX)) {
    const stack = value.slice(STACK_PREFIX.length);
    if (!/^[A-Za-z0-9_.-]+$/.test(stack))
      throw new TiersError(
        ExitCode.Usage,
        `--central: not a stack name (got ${JSON.stringify(value)}, expected stack:<name> of letters, digits, _ . -)`,
      );
    return { kind: "stack", stack };
  }
  if (value.startsWith("s3://")) {
    const reports = env.TIERS_REPORTS_URL;
    return {
      kind: "inbox",
      inbox: parseS3Url(value, "--central"),
      ...(reports ? { reports: parseS3Url(reports, "TIERS_REPORTS_URL") } : {}),
    };
  }
  if (isCentralStackFile(projectDir, value)) return { kind: "stack", stack: value };
  return { kind: "database", location: value };
}

/** The outputs of a deployed central stack, through the Automation API (the user's CLI and backend). */
export async function readCentralStack(
  stack: string,
  options: { readonly projectDir: string; readonly pulumiCommand?: automation.PulumiCommand },
): Promise<CentralStackOutputs> {
  const { auto, ws } = await openWorkspace(options);
  let outputs: automation.OutputMap;
  try {
    outputs = await (await auto.Stack.select(stack, ws)).outputs();
  } catch (error) {
    throw new TiersError(
      ExitCode.Infrastructure,
      `central stack ${stack}: ${describeCommandError(error)}; nothing was started`,
      { cause: error },
    );
  }
  const values = Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, v.value as unknown]));
  const parsed = CentralStackOutputs.safeParse(values);
  if (!parsed.success)
    throw new TiersError(
      ExitCode.Infrastructure,
      `the outputs of stack ${stack} are not a central stack's (is it deployed, with program central?); nothing was started`,
      { details: parsed.error.issues.map((i) => `${i.path.join(".") || "(outputs)"}: ${i.message}`) },
    );
  return parsed.data;
}

/** A central stack's inbox and reports locations, from its outputs. */
export function centralInboxOf(outputs: CentralStackOutputs): {
  readonly inbox: S3Location;
  readonly reports: S3Location;
} {
  return {
    inbox: parseS3Url(`s3://${outputs.inboxBucket}/${outputs.inboxPrefix}`, `stack ${outputs.stack} inbox`),
    reports: parseS3Url(`s3://${outputs.reportsBucket}/${REPORTS_PREFIX}`, `stack ${outputs.stack} reports`),
  };
}

/**
 * `tiers central … --db stack:<name>`: the central stack's database URL from its outputs
 * (`postgres://tiers@<host>:5432/results?sslmode=require`, no password: PGPASSWORD supplies it, from
 * the stack's Secrets Manager secret). Any other value is returned as it is.
 */
export async function resolveDbFlag(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  if (flag === undefined || !flag.startsWith(STACK_PREFIX)) return flag;
  const projectDir = resolve(env.TIERS_PROJECT_DIR ?? PROJECT_DIR);
  const choice = resolveCentralChoice(flag, projectDir, env);
  if (choice.kind !== "stack") return flag;
  const outputs = await readCentralStack(choice.stack, { projectDir });
  return outputs.databaseUrl;
}
