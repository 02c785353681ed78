import type { PolicyCheckReport, StackCheck } from "./run.js";

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

function countLevels(stacks: readonly StackCheck[]): { mandatory: number; advisory: number } {
  const all = stacks.flatMap((s) => s.violations);
  return {
    mandatory: all.filter((v) => v.level === "mandatory").length,
    advisory: all.filter((v) => v.level === "advisory").length,
  };
}

/**
 * The report as `pulumi preview --policy-pack` prints policy violations: per stack, each violation
 * as `[level]  policy  (type: name)`, then the resource's URN, the policy's description and what
 * the policy reported.
 */
export function renderPolicyReport(report: PolicyCheckReport): string {
  const resourcePolicies = report.policies.filter((p) => p.kind === "resource").length;
  const lines = [
    `Policy pack ${report.pack.name}@v${report.pack.version}: ${plural(report.policies.length, "policy", "policies")} (${resourcePolicies} resource, ${report.policies.length - resourcePolicies} stack), applied offline under Pulumi's mock runtime`,
  ];
  for (const s of report.stacks) {
    const { mandatory, advisory } = countLevels([s]);
    const verdict =
      mandatory + advisory === 0
        ? "no violations"
        : [
            ...(mandatory > 0 ? [plural(mandatory, "mandatory violation")] : []),
            ...(advisory > 0 ? [plural(advisory, "advisory violation")] : []),
          ].join(", ");
    lines.push("", `Stack ${s.stack} (${s.stackFile}): ${plural(s.resources, "resource")}, ${verdict}`);
    for (const v of s.violations) {
      lines.push(
        `    - [${v.level}]  ${v.policy}  (${v.type}: ${v.name})`,
        `      ${v.urn}`,
        `      ${v.description}`,
        `      ${v.message}`,
      );
    }
  }
  const { mandatory, advisory } = countLevels(report.stacks);
  lines.push(
    "",
    `${mandatory === 0 ? "Passed" : "Failed"}: ${plural(mandatory, "mandatory violation")} and ${plural(advisory, "advisory violation")} in ${plural(report.stacks.length, "stack")}.`,
  );
  return lines.join("\n");
}
