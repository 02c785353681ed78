import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv, type ValidateFunction } from "ajv";
import { parseAllDocuments } from "yaml";
import type { CapturedGraph } from "./graph.js";

/**
 * Validation of custom-resource bodies (ServiceMonitor, PrometheusRule, WorkflowTemplate,
 * Certificate, PodChaos, …) against their schemas, wherever the body comes from: the Pulumi graph
 * captured offline, a generator in `tiers/` or `workloads/`, or what the orchestrator sends to the
 * Kubernetes API. Two independent sources, each used when it exists:
 *
 * - **package**: the `@kubernetes-models/*` models (generated from each project's Go types), which
 *   a user's clone has through `npm ci`: Argo Workflows, cert-manager, prometheus-operator.
 * - **crd**: the upstream CRD files (`openAPIV3Schema`, compiled with ajv), from `TIERS_CRD_DIR` or
 *   `<repository>/../shared/reference/crds` where it exists (the development and CI machines).
 *   Chaos Mesh has no model package, so its kinds are checked only here.
 *
 * A CRD schema is applied as the API server applies it with `fieldValidation=Strict` (what kubectl
 * uses by default for server-side apply): an object schema that lists properties and neither
 * preserves unknown fields nor describes a map refuses a field it does not list, where the
 * default would silently prune it (a typo'd field is then a problem, not a no-op).
 */

export interface CustomResourceBody {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata?: { readonly name?: string; readonly namespace?: string } & Record<string, unknown>;
  readonly [key: string]: unknown;
}

export interface CustomResourceCheck {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  /** The validators that ran on it, e.g. `package @kubernetes-models/cert-manager`, `crd cert-manager.io_certificates.yaml`. */
  readonly checkedBy: readonly string[];
  /** Every problem found, `<source>: <json pointer> <message>`; empty when valid. */
  readonly problems: readonly string[];
}

/** The model packages, by API group, and the module path of a group version inside each. */
const MODEL_PACKAGES: Readonly<Record<string, string>> = {
  "argoproj.io": "@kubernetes-models/argo-workflows",
  "cert-manager.io": "@kubernetes-models/cert-manager",
  "monitoring.coreos.com": "@kubernetes-models/prometheus-operator",
};

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** Where the upstream CRD files are, or null when this checkout has none (a user's clone). */
export function crdDirectory(env: NodeJS.ProcessEnv = process.env): string | null {
  const dir = env.TIERS_CRD_DIR ?? join(REPO_ROOT, "..", "shared", "reference", "crds");
  return existsSync(dir) ? dir : null;
}

/** The API groups whose kinds can be validated by a package even without the CRD files. */
export function packageGroups(): readonly string[] {
  return Object.keys(MODEL_PACKAGES);
}

function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf("/");
  return slash < 0
    ? { group: "", version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

interface ModelError {
  readonly instancePath?: string;
  readonly message?: string;
  readonly params?: Record<string, unknown>;
}

interface ModelClass {
  new (data: unknown): { validate(): void };
}

async function packageProblems(
  body: CustomResourceBody,
): Promise<{ source: string; problems: string[] } | null> {
  const { group, version } = splitApiVersion(body.apiVersion);
  const pkg = MODEL_PACKAGES[group];
  if (pkg === undefined) return null;
  const mod = (await import(`${pkg}/${group}/${version}`)) as Record<string, unknown>;
  const Model = mod[body.kind] as ModelClass | undefined;
  const source = `package ${pkg}`;
  if (typeof Model !== "function") return { source, problems: [`${source}: no model for kind ${body.kind}`] };
  try {
    new Model(group === "argoproj.io" ? argoModelShape(body) : body).validate();
    return { source, problems: [] };
  } catch (error) {
    const errors: unknown = (error as { errors?: unknown }).errors;
    if (!Array.isArray(errors)) return { source, problems: [`${source}: ${(error as Error).message}`] };
    return { source, problems: (errors as ModelError[]).map((e) => `${source}: ${describeError(e)}`) };
  }
}

/**
 * The body in the shape `@kubernetes-models/argo-workflows` models: a steps template's groups are
 * Argo's `ParallelSteps`, a Go struct `{steps: [...]}` whose JSON is the bare list (its own
 * `UnmarshalJSON`; the CRD says `items: {items: …}`), which the package, generated from the struct,
 * reads as the object. Every other field is given as it is.
 */
function argoModelShape(body: CustomResourceBody): CustomResourceBody {
  const spec = body.spec as { templates?: unknown } | undefined;
  if (!spec || !Array.isArray(spec.templates)) return body;
  const templates = (spec.templates as Record<string, unknown>[]).map((t) =>
    Array.isArray(t.steps)
      ? { ...t, steps: (t.steps as unknown[]).map((g) => (Array.isArray(g) ? { steps: g } : g)) }
      : t,
  );
  return { ...body, spec: { ...spec, templates } };
}

function describeError(e: ModelError): string {
  const extra =
    e.params && "additionalProperty" in e.params
      ? ` (${String(e.params.additionalProperty)})`
      : e.params && "allowedValues" in e.params
        ? ` (${JSON.stringify(e.params.allowedValues)})`
        : "";
  return `${e.instancePath || "/"} ${e.message ?? "is invalid"}${extra}`;
}

type Schema = Record<string, unknown>;

/** The structural schema made strict: unlisted fields refused where Kubernetes would prune them. */
function strictSchema(schema: Schema): Schema {
  const out: Schema = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === "properties" && v && typeof v === "object") {
      out[k] = Object.fromEntries(
        Object.entries(v as Record<string, Schema>).map(([p, s]) => [p, strictSchema(s)]),
      );
    } else if ((k === "items" || k === "additionalProperties") && v && typeof v === "object") {
      out[k] = strictSchema(v as Schema);
    } else if ((k === "anyOf" || k === "allOf" || k === "oneOf") && Array.isArray(v)) {
      out[k] = v.map((s: Schema) => strictSchema(s));
    } else out[k] = v;
  }
  exclusiveBounds(out);
  const isObject = out.type === "object" || out.properties !== undefined;
  if (
    isObject &&
    out.properties !== undefined &&
    out.additionalProperties === undefined &&
    out["x-kubernetes-preserve-unknown-fields"] !== true
  ) {
    // Every object carries apiVersion/kind/metadata at the top only; metadata itself is `type: object`
    // without properties in a CRD and stays open, as the API server treats it.
    out.additionalProperties = false;
  }
  return out;
}

interface CrdEntry {
  readonly file: string;
  readonly validate: ValidateFunction;
}

/**
 * OpenAPI 3.0's boolean `exclusiveMinimum`/`exclusiveMaximum` (beside `minimum`/`maximum`) in the
 * JSON Schema form ajv reads (a number).
 */
function exclusiveBounds(out: Schema): void {
  for (const [ex, bound] of [
    ["exclusiveMinimum", "minimum"],
    ["exclusiveMaximum", "maximum"],
  ] as const) {
    if (out[ex] === true && typeof out[bound] === "number") {
      out[ex] = out[bound];
      delete out[bound];
    } else if (typeof out[ex] === "boolean") delete out[ex];
  }
}

/** `group/version/Kind` → CRD file, read from each file's head (names are near the top), per directory. */
const crdIndex = new Map<string, Map<string, string>>();
const compiled = new Map<string, CrdEntry | null>();
/**
 * CRD patterns are Go (RE2) regular expressions; the one construct they use that JavaScript lacks
 * is an inline case-insensitive flag (`^(?i)(abort|warn)?$` in PrometheusRule). It is turned into
 * the `i` flag; any other pattern is compiled as written.
 */
const goRegExp = Object.assign(
  (pattern: string, flags: string): RegExp => {
    const inline = /^(\^?)\(\?i\)/.exec(pattern);
    return inline
      ? new RegExp(inline[1]! + pattern.slice(inline[0].length), `${flags}i`)
      : new RegExp(pattern, flags);
  },
  { code: "goRegExp" },
);
const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, code: { regExp: goRegExp } });

function indexCrds(dir: string): Map<string, string> {
  const cached = crdIndex.get(dir);
  if (cached) return cached;
  const index = new Map<string, string>();
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .sort()) {
    const text = readFileSync(join(dir, file), "utf8");
    const group = /^ {2}group: (\S+)\s*$/m.exec(text)?.[1];
    const kind = /^ {2}names:\s*\n(?: {4}.*\n)*? {4}kind: (\S+)\s*$/m.exec(text)?.[1];
    if (group && kind) index.set(`${group}/${kind}`, file);
  }
  crdIndex.set(dir, index);
  return index;
}

/** The compiled schema of one kind's version, or null; each CRD file is parsed and compiled once per process. */
function crdFor(dir: string, group: string, version: string, kind: string): CrdEntry | null {
  const file = indexCrds(dir).get(`${group}/${kind}`);
  if (!file) return null;
  const key = `${dir}/${file}/${version}`;
  if (compiled.has(key)) return compiled.get(key)!;
  let entry: CrdEntry | null = null;
  for (const doc of parseAllDocuments(readFileSync(join(dir, file), "utf8"))) {
    const crd = doc.toJS({ maxAliasCount: 100 }) as {
      kind?: string;
      spec?: { versions: { name: string; schema?: { openAPIV3Schema?: Schema } }[] };
    } | null;
    if (crd?.kind !== "CustomResourceDefinition") continue;
    const schema = crd.spec?.versions.find((v) => v.name === version)?.schema?.openAPIV3Schema;
    if (schema) entry = { file, validate: ajv.compile(strictSchema(schema)) };
  }
  compiled.set(key, entry);
  return entry;
}

function crdProblems(body: CustomResourceBody, dir: string): { source: string; problems: string[] } | null {
  const { group, version } = splitApiVersion(body.apiVersion);
  const entry = crdFor(dir, group, version, body.kind);
  if (!entry) return null;
  const source = `crd ${entry.file}`;
  if (entry.validate(body)) return { source, problems: [] };
  return {
    source,
    problems: (entry.validate.errors ?? []).map((e) => `${source}: ${describeError(e as ModelError)}`),
  };
}

/**
 * Validates one custom-resource body with every validator available for its kind. A kind that no
 * validator knows gets no `checkedBy` entry: callers decide whether that is a failure.
 */
export async function validateCustomResource(
  body: CustomResourceBody,
  options: { readonly crdDir?: string | null } = {},
): Promise<CustomResourceCheck> {
  const dir = options.crdDir === undefined ? crdDirectory() : options.crdDir;
  const checkedBy: string[] = [];
  const problems: string[] = [];
  for (const result of [await packageProblems(body), dir ? crdProblems(body, dir) : null]) {
    if (!result) continue;
    checkedBy.push(result.source);
    problems.push(...result.problems);
  }
  return {
    apiVersion: body.apiVersion,
    kind: body.kind,
    name: body.metadata?.name ?? "(unnamed)",
    checkedBy,
    problems,
  };
}

/**
 * `kubernetes:<group>/<version>:<Kind>` of a custom resource: a group with a dot that is not one of
 * Kubernetes' own (`*.k8s.io`) nor Pulumi's Helm release (`helm.sh`).
 */
export function customResourceType(type: string): { apiVersion: string; kind: string } | null {
  const m = /^kubernetes:(([a-z0-9-]+\.[a-z0-9.-]+)\/[a-z0-9]+):([A-Za-z]+)$/.exec(type);
  if (!m) return null;
  const group = m[2]!;
  if (group.endsWith(".k8s.io") || group === "helm.sh") return null;
  return { apiVersion: m[1]!, kind: m[3]! };
}

/** Every custom resource a captured graph registers (`kubernetes:<group>/<version>:<Kind>`), validated. */
export async function validateGraphCustomResources(
  graph: CapturedGraph,
  options: { readonly crdDir?: string | null } = {},
): Promise<(CustomResourceCheck & { readonly urn: string })[]> {
  const out: (CustomResourceCheck & { readonly urn: string })[] = [];
  for (const r of graph.resources) {
    const t = customResourceType(r.type);
    if (!t) continue;
    const body = { ...r.inputs, apiVersion: t.apiVersion, kind: t.kind } as CustomResourceBody;
    out.push({ urn: r.urn, ...(await validateCustomResource(body, options)) });
  }
  return out;
}
