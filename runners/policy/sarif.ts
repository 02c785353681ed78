/**
 * The report as SARIF 2.1.0 for code-scanning UIs (GitHub's upload-sarif): one run of the pack as
 * the tool, one rule per policy, one result per violation, located at the stack file whose program
 * produced the resource (its URN is the result's logical location and part of its fingerprint).
 */
import { createHash } from "node:crypto";
import { isAbsolute } from "node:path";
import { pathToFileURL } from "node:url";
import type { PolicyCheckReport } from "./run.js";

export const SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json";

const LEVEL = { mandatory: "error", advisory: "warning", disabled: "none" } as const;

export interface SarifLog {
  readonly $schema: string;
  readonly version: "2.1.0";
  readonly runs: readonly SarifRun[];
}

export interface SarifRun {
  readonly tool: {
    readonly driver: {
      readonly name: string;
      readonly version: string;
      readonly semanticVersion: string;
      readonly rules: readonly SarifRule[];
    };
  };
  readonly results: readonly SarifResult[];
}

export interface SarifRule {
  readonly id: string;
  readonly name: string;
  readonly shortDescription: { readonly text: string };
  readonly fullDescription: { readonly text: string };
  readonly help: { readonly text: string };
  readonly defaultConfiguration: { readonly level: "error" | "warning" | "none" };
  readonly properties: { readonly tags: readonly string[]; readonly kind: string };
}

export interface SarifResult {
  readonly ruleId: string;
  readonly ruleIndex: number;
  readonly level: "error" | "warning";
  readonly message: { readonly text: string };
  readonly locations: readonly {
    readonly physicalLocation: {
      readonly artifactLocation: { readonly uri: string };
      readonly region: { readonly startLine: number };
    };
    readonly logicalLocations: readonly { readonly fullyQualifiedName: string; readonly kind: string }[];
  }[];
  readonly partialFingerprints: { readonly [key: string]: string };
}

/** `tier-capacity` → `TierCapacity` (SARIF's `name`: a rule's identifier in words). */
function ruleName(id: string): string {
  return id.replace(/(^|-)([a-z0-9])/g, (_, _sep: string, c: string) => c.toUpperCase());
}

/** A stack file inside the repository as a relative URI (what code scanning shows), else a file: URI. */
export function artifactUri(stackFile: string): string {
  return isAbsolute(stackFile) ? pathToFileURL(stackFile).href : stackFile.split("\\").join("/");
}

export function toSarif(report: PolicyCheckReport): SarifLog {
  const rules: SarifRule[] = report.policies.map((p) => ({
    id: p.name,
    name: ruleName(p.name),
    shortDescription: { text: p.description.split(/(?<=\.)\s/)[0]! },
    fullDescription: { text: p.description },
    help: {
      text: `Policy ${p.name} of the ${report.pack.name} CrossGuard pack: policies/rules/${p.name}.ts. README.md, "Policy as code", says how the pack runs offline (tiers policy check) and under pulumi preview --policy-pack policies.`,
    },
    defaultConfiguration: { level: LEVEL[p.enforcementLevel as keyof typeof LEVEL] ?? "warning" },
    properties: { tags: ["policy-as-code", "pulumi", p.kind], kind: `${p.kind} policy` },
  }));
  const index = new Map(rules.map((r, i) => [r.id, i]));
  const results: SarifResult[] = report.stacks.flatMap((s) =>
    s.violations.map((v) => ({
      ruleId: v.policy,
      ruleIndex: index.get(v.policy)!,
      level: LEVEL[v.level],
      message: { text: `${v.message}\nStack ${s.stack}, resource ${v.urn}` },
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: artifactUri(s.stackFile) },
            region: { startLine: 1 },
          },
          logicalLocations: [{ fullyQualifiedName: v.urn, kind: "resource" }],
        },
      ],
      partialFingerprints: {
        "testTiersPolicy/v1": createHash("sha256")
          .update(`${v.policy}\n${v.urn}\n${v.message}`)
          .digest("hex"),
      },
    })),
  );
  return {
    $schema: SARIF_SCHEMA,
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: `${report.pack.name} policy pack`,
            version: report.pack.version,
            semanticVersion: report.pack.version,
            rules,
          },
        },
        results,
      },
    ],
  };
}
