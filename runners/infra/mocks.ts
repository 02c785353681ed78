import * as pulumi from "@pulumi/pulumi";
import { SECRET_MARKER, type CapturedInvoke, type CapturedResource } from "./graph.js";
import { mockInvoke, mockState } from "./mock-state.js";

/** The parts of Pulumi's RegisterResourceRequest the recorder reads. */
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getProvider(): string;
  getCustom(): boolean;
  getRemote(): boolean;
  getProvidersMap(): { get(key: string): string | undefined; getEntryList(): [string, string][] };
  getProtect(): boolean;
  getIgnorechangesList(): string[];
  getAdditionalsecretoutputsList(): string[];
  getDependenciesList(): string[];
  getPropertydependenciesMap(): {
    forEach(cb: (deps: { getUrnsList(): string[] }, key: string) => void): void;
  };
  getObject(): unknown;
}
interface OutputsRequest {
  getUrn(): string;
  getOutputs(): unknown;
}
type Callback = (err: unknown, resp: unknown) => void;
interface MockMonitorLike {
  newUrn(parent: string, type: string, name: string): string;
  registerResource(req: RegisterRequest, cb: Callback): Promise<void>;
  registerResourceOutputs(req: OutputsRequest, cb: Callback): void;
}

/** What a program registered under the mocks. */
export interface Recorder {
  readonly resources: CapturedResource[];
  readonly invokes: CapturedInvoke[];
  root?: string;
  rootOutputs?: { value: unknown; secretPaths: string[] };
}

export const ROOT_STACK_TYPE = "pulumi:pulumi:Stack";

/**
 * Installs Pulumi's mock runtime (before the program is imported) and records every resource
 * registration with its type, name, URN, parent, provider and inputs. Invokes are strict (see
 * `mockInvoke`). Only one program run per process: Pulumi's runtime state is global.
 */
export async function installMocks(project: string, stack: string): Promise<Recorder> {
  const recorder: Recorder = { resources: [], invokes: [] };
  const regionOfProvider = new Map<string, string>();
  const regionFor = (providerRef: string | undefined): string => {
    if (!providerRef) return "us-east-1";
    return regionOfProvider.get(providerRef.slice(0, providerRef.lastIndexOf("::"))) ?? "us-east-1";
  };

  await pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
        const inputs = args.inputs as Record<string, unknown>;
        return mockState(args.type, args.name, inputs, regionFor(args.provider));
      },
      call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
        recorder.invokes.push({
          token: args.token,
          ...(args.provider ? { provider: providerUrn(args.provider) } : {}),
        });
        return mockInvoke(args, regionFor(args.provider));
      },
    },
    project,
    stack,
    false,
  );

  // Pulumi's MockMonitor hands `newResource` neither the parent nor the dependencies, and unwraps
  // nothing it does not need to; the recorder reads them from the request itself.
  const monitor = pulumi.runtime.getMonitor() as unknown as MockMonitorLike;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) => {
    const type = req.getType();
    const parent = req.getParent() || undefined;
    const urn = monitor.newUrn(req.getParent(), type, req.getName());
    const raw = pulumi.runtime.deserializeProperties(req.getObject() as never) as Record<string, unknown>;
    if (type === ROOT_STACK_TYPE) {
      recorder.root = urn;
    } else {
      const secretPaths: string[] = [];
      const inputs = redact(raw, "", secretPaths) as Record<string, unknown>;
      if (type.startsWith("pulumi:providers:") && typeof raw.region === "string")
        regionOfProvider.set(urn, raw.region);
      recorder.resources.push({
        urn: engineUrn(urn),
        type,
        name: req.getName(),
        ...(parent !== undefined ? { parent: engineUrn(parent) } : {}),
        ...(req.getProvider()
          ? { provider: providerUrn(req.getProvider()) }
          : remoteProvider(req) !== undefined
            ? { provider: providerUrn(remoteProvider(req)!) }
            : {}),
        custom: req.getCustom(),
        dependencies: req.getDependenciesList().map(engineUrn),
        propertyDependencies: propertyDependencies(req),
        options: {
          protect: req.getProtect(),
          ignoreChanges: req.getIgnorechangesList(),
          additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
        },
        inputs,
        secretPaths,
      });
    }
    return register(req, cb);
  };
  const registerOutputs = monitor.registerResourceOutputs.bind(monitor);
  monitor.registerResourceOutputs = (req, cb) => {
    if (req.getUrn() === recorder.root) {
      const secretPaths: string[] = [];
      const value = redact(pulumi.runtime.deserializeProperties(req.getOutputs() as never), "", secretPaths);
      recorder.rootOutputs = { value, secretPaths };
    }
    registerOutputs(req, cb);
  };
  return recorder;
}

/**
 * A remote (multi-language) component's provider: it has no `provider`, only the `providers` its
 * plugin's Construct hands its children (CertManager: `{ kubernetes }`). The graph records the one
 * provider it was given, so the provider-flow checks see it like any child of the region.
 */
function remoteProvider(req: RegisterRequest): string | undefined {
  if (!req.getRemote()) return undefined;
  const entries = req.getProvidersMap().getEntryList();
  return entries.length === 1 ? entries[0]![1] : undefined;
}

/** Input name → the URNs its value depended on (`bucket` of a BucketPolicy → the Bucket). */
function propertyDependencies(req: RegisterRequest): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  req.getPropertydependenciesMap().forEach((deps, key) => {
    out[key] = deps.getUrnsList().map(engineUrn);
  });
  return out;
}

/** `urn::id` → `urn` (engine form) */
function providerUrn(ref: string): string {
  return engineUrn(ref.slice(0, ref.lastIndexOf("::")));
}

/**
 * A URN as the engine writes it. Pulumi's MockMonitor puts the root stack's type into the type
 * chain of top-level resources (`…::pulumi:pulumi:Stack$aws:s3/bucket:Bucket::b`); the engine
 * leaves it out (`…::aws:s3/bucket:Bucket::b`), and so does everything the harness records.
 */
export function engineUrn(urn: string): string {
  return urn.replace(`::${ROOT_STACK_TYPE}$`, "::");
}

function isSecret(v: unknown): v is { value: unknown } {
  return (
    v !== null &&
    typeof v === "object" &&
    (v as Record<string, unknown>)[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig
  );
}

/** Replaces every secret (at any depth) with SECRET_MARKER and records its dotted path. */
export function redact(value: unknown, path: string, secretPaths: string[]): unknown {
  if (isSecret(value)) {
    secretPaths.push(path === "" ? "(root)" : path);
    return SECRET_MARKER;
  }
  if (Array.isArray(value))
    return value.map((v, i) => redact(v, path === "" ? String(i) : `${path}.${i}`, secretPaths));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value))
      out[k] = redact(v, path === "" ? k : `${path}.${k}`, secretPaths);
    return out;
  }
  return value;
}

/**
 * Waits until every registration the program has started has reached the mock monitor: the same
 * drain `pulumi.runtime.disconnect()` performs, without closing the runtime (for in-process tests
 * of a component core). Uses Pulumi's internal `waitForRPCs`, which 3.248 exports at run time.
 */
export async function waitForRegistrations(): Promise<void> {
  const wait = (pulumi.runtime as unknown as { waitForRPCs?: () => Promise<void> }).waitForRPCs;
  if (typeof wait !== "function")
    throw new Error("this @pulumi/pulumi has no runtime.waitForRPCs; use captureStack instead");
  await wait();
}
