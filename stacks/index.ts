/**
 * The Pulumi program (`main` of Pulumi.yaml). The language host imports this module and calls its
 * default export inside the stack; what it returns are the stack outputs.
 */
import * as pulumi from "@pulumi/pulumi";
import { stackConfigSource } from "./config/source.js";
import { runTierProgram, type StackOutputs } from "./program.js";

export default function main(): StackOutputs {
  const stack = pulumi.getStack();
  return runTierProgram(stack, stackConfigSource(stack, pulumi.runtime.allConfig()));
}
