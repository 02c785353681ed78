import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root: every image's build context. */
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

export type ImageName = "base" | "orchestrator" | "sut";

export interface ImageSpec {
  readonly name: ImageName;
  /** Relative to the repository root. */
  readonly dockerfile: string;
  /** The build argument naming the image it starts FROM. */
  readonly fromArg: "NODE_IMAGE" | "BASE_IMAGE";
}

/** Every image, in build order: the base first, the thin images FROM it (seed 002's two stages). */
export const IMAGE_SPECS: readonly ImageSpec[] = [
  { name: "base", dockerfile: "workloads/base/Dockerfile", fromArg: "NODE_IMAGE" },
  { name: "orchestrator", dockerfile: "workloads/orchestrator/Dockerfile", fromArg: "BASE_IMAGE" },
  { name: "sut", dockerfile: "workloads/sut/Dockerfile", fromArg: "BASE_IMAGE" },
];

/** Where the images are named (the stacks' default images are `ghcr.io/test-tiers/<name>:<version>`). */
export const DEFAULT_REGISTRY = "ghcr.io/test-tiers";
export const SOURCE_URL = "https://github.com/test-tiers/test-tiers";

/** The project's version (package.json): the images' default tag and their version label. */
export function projectVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

export function imageRef(name: ImageName, tag: string, registry = DEFAULT_REGISTRY): string {
  return `${registry}/${name}:${tag}`;
}

/** The official Node image the base starts from by default: the digest in the base Dockerfile. */
export function defaultNodeImage(): string {
  const text = readFileSync(new URL(`../../${IMAGE_SPECS[0]!.dockerfile}`, import.meta.url), "utf8");
  const m = /^ARG NODE_IMAGE=(\S+)$/m.exec(text);
  if (!m) throw new Error("workloads/base/Dockerfile has no ARG NODE_IMAGE=… line");
  return m[1]!;
}

/** The label holding `inputsHash()`: an image that has it was built from this checkout's files. */
export const INPUTS_LABEL = "io.github.test-tiers.inputs";

/** A hash of every file the images are built from (the Dockerfiles' COPY sources, tracked or new). */
export function inputsHash(root = REPO_ROOT): string {
  const files = execFileSync(
    "git",
    [
      "ls-files",
      "-co",
      "--exclude-standard",
      "package.json",
      "package-lock.json",
      "tsconfig.json",
      "tsconfig.build.json",
      "policies/package.json",
      "tiers",
      "workloads",
    ],
    { cwd: root, encoding: "utf8" },
  )
    .split("\n")
    .filter(Boolean)
    .sort();
  const h = createHash("sha256");
  for (const f of files) {
    h.update(`${f}\0`);
    try {
      h.update(readFileSync(join(root, f)));
    } catch {
      h.update("(deleted)");
    }
  }
  return h.digest("hex").slice(0, 16);
}
