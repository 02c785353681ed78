// The release workflow's pin step: node --import tsx runners/images/pin-images.ts ORCHESTRATOR_REF SUT_REF
// writes both digest-pinned references into every shipped stack file's test-tiers:images.
import { join } from "node:path";
import { shippedStacks } from "../policy/run.js";
import { pinStackImages } from "./pin.js";

const [orchestrator, sut] = process.argv.slice(2);
if (orchestrator === undefined || sut === undefined) {
  process.stderr.write("usage: pin-images.ts ORCHESTRATOR_REF SUT_REF (repo:tag@sha256:…)\n");
  process.exit(2);
}
const files = shippedStacks().map((s) => join("stacks", `Pulumi.${s}.yaml`));
try {
  const changed = pinStackImages(files, { orchestrator, sut });
  process.stdout.write(`pinned ${changed.length} stack file(s): ${changed.join(", ")}\n`);
} catch (error) {
  process.stderr.write(`error: ${(error as Error).message}\n`);
  process.exit(3);
}
