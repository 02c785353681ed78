import type { ConfigIssue } from "../../tiers/config/issues.js";

/** One resource registered by the program, as the mock monitor saw it. Secret values are redacted. */
export interface CapturedResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  /** URN of the parent (the root Stack for top-level resources). */
  readonly parent?: string;
  /** URN of the provider resource the engine would use (explicit or inherited); absent for components and providers. */
  readonly provider?: string;
  /** A custom resource (a cloud object), as opposed to a component. */
  readonly custom: boolean;
  readonly dependencies: readonly string[];
  /** Per input, the URNs its value depended on (what the engine hands stack policies). */
  readonly propertyDependencies: Readonly<Record<string, readonly string[]>>;
  /** The resource options the engine would hand a policy (`args.opts`). */
  readonly options: {
    readonly protect: boolean;
    readonly ignoreChanges: readonly string[];
    readonly additionalSecretOutputs: readonly string[];
  };
  /** Inputs after serialization, every secret value replaced by `SECRET_MARKER`. */
  readonly inputs: Record<string, unknown>;
  /** Dotted paths of the inputs that were Pulumi secrets (`stringData.token`). */
  readonly secretPaths: readonly string[];
}

export interface CapturedInvoke {
  readonly token: string;
  readonly provider?: string;
}

/** A whole program run under mocks: every resource, the stack outputs, or why it stopped. */
export interface CapturedGraph {
  readonly kind: "test-tiers/captured-graph";
  readonly project: string;
  readonly stack: string;
  /** The stack file the config came from, as messages name it. */
  readonly stackFile: string;
  readonly ok: boolean;
  readonly error?: { readonly message: string; readonly issues?: readonly ConfigIssue[] };
  /** URN of the root `pulumi:pulumi:Stack`, when the program got that far. */
  readonly root?: string;
  /** Every resource the program registered (the root Stack excluded). */
  readonly resources: readonly CapturedResource[];
  readonly outputs: unknown;
  readonly outputSecretPaths: readonly string[];
  readonly invokes: readonly CapturedInvoke[];
  readonly timings: { readonly importMs: number; readonly programMs: number; readonly totalMs: number };
}

export const SECRET_MARKER = "[secret]";

export function isProviderType(type: string): boolean {
  return type.startsWith("pulumi:providers:");
}

/** Resources counted per type, most frequent first. */
export function countByType(resources: readonly CapturedResource[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const r of resources) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

/** The tree of resources under `root`, one line each: `name  type  [provider]`, children indented. */
export function renderTree(graph: CapturedGraph): string {
  const byParent = new Map<string | undefined, CapturedResource[]>();
  for (const r of graph.resources) {
    const list = byParent.get(r.parent) ?? [];
    list.push(r);
    byParent.set(r.parent, list);
  }
  // Registration order depends on when outputs resolve; print in a stable order instead.
  const rank = (r: CapturedResource): number => (isProviderType(r.type) ? 0 : r.custom ? 2 : 1);
  for (const list of byParent.values()) {
    list.sort(
      (a, b) =>
        rank(a) - rank(b) ||
        a.type.localeCompare(b.type) ||
        a.name.localeCompare(b.name, "en", { numeric: true }),
    );
  }
  const names = new Map(graph.resources.map((r) => [r.urn, r.name]));
  const lines: string[] = [`${graph.project}-${graph.stack}  pulumi:pulumi:Stack`];
  const walk = (parent: string | undefined, indent: string): void => {
    const kids = byParent.get(parent) ?? [];
    kids.forEach((r, i) => {
      const last = i === kids.length - 1;
      const provider = r.provider !== undefined ? `  [${names.get(r.provider) ?? r.provider}]` : "";
      lines.push(`${indent}${last ? "└─ " : "├─ "}${r.name}  ${r.type}${provider}`);
      walk(r.urn, indent + (last ? "   " : "│  "));
    });
  };
  walk(graph.root, "");
  return lines.join("\n");
}

/** The value at a dotted path (`spec.template.spec.containers`) of plain data. */
export function get(data: unknown, path: string): unknown {
  let cur = data;
  for (const k of path.split(".")) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}
