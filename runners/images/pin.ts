import { readFileSync, writeFileSync } from "node:fs";
import { parseDocument } from "yaml";
import { parseImageRef } from "../../tiers/infra/image-ref.js";

export interface PinnedImages {
  readonly orchestrator: string;
  readonly sut: string;
}

const DIGEST_REF = /^[^@\s]+:[A-Za-z0-9_.-]+@sha256:[a-f0-9]{64}$/;

/**
 * Sets `test-tiers:images` in each stack file to the released images (`repo:tag@sha256:…`), keeping
 * the file's comments and layout (yaml's Document API). The release workflow calls it after the
 * push and opens a pull request with the result, so `pulumi up` deploys images that exist.
 * Returns the files it changed.
 */
export function pinStackImages(files: readonly string[], images: PinnedImages): string[] {
  for (const [k, ref] of Object.entries(images) as [string, string][]) {
    if (!DIGEST_REF.test(ref) || !parseImageRef(ref))
      throw new Error(`images.${k}: ${JSON.stringify(ref)} is not a repo:tag@sha256:<64 hex> reference`);
  }
  const changed: string[] = [];
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    const doc = parseDocument(text);
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]!.message}`);
    doc.setIn(["config", "test-tiers:images", "orchestrator"], images.orchestrator);
    doc.setIn(["config", "test-tiers:images", "sut"], images.sut);
    const out = doc.toString();
    if (out !== text) {
      writeFileSync(file, out);
      changed.push(file);
    }
  }
  return changed;
}
