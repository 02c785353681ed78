/**
 * The Pulumi program (`main` of Pulumi.yaml). The language host imports this module and calls its
 * default export inside the stack; what it returns are the stack outputs.
 */
import * as pulumi from "@pulumi/pulumi";
import { stackConfigSource } from "./config/source.js";
import { isCentralStack, runCentralProgram } from "./central-program.js";
import { runTierProgram, type StackOutputs } from "./program.js";

export default function main(): StackOutputs {
  const stack = pulumi.getStack();
  const source = stackConfigSource(stack, pulumi.runtime.allConfig());
  // `test-tiers:program: central` selects the central analysis stack; every other stack is a tier.
  if (isCentralStack(source.data as Record<string, unknown>)) return runCentralProgram(stack, source);
  return runTierProgram(stack, source);
}
