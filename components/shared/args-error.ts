import * as pulumi from "@pulumi/pulumi";

/**
 * A component refusing its args at construction, naming the field, the value and what is allowed.
 * A `RunError` so the Pulumi CLI prints the message without a stack trace.
 */
export function argsError(
  type: string,
  name: string,
  field: string,
  problem: string,
  got: unknown,
  expected: string,
): pulumi.RunError {
  return new pulumi.RunError(
    `${type} ${name}: args.${field} ${problem} (got ${JSON.stringify(got)}, expected ${expected})`,
  );
}
