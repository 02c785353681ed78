/**
 * Container image references (`[registry[:port]/]path[:tag][@sha256:digest]`) and the rule that a
 * deployed image is pinned: a version tag other than `latest`, or a digest.
 */

export interface ImageRef {
  /** Registry and path, without tag or digest. */
  readonly repository: string;
  readonly tag?: string;
  /** `sha256:<64 hex>` */
  readonly digest?: string;
}

const DIGEST = /@(sha256:[a-f0-9]{64})$/;
const TAG = /:([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$/;
const COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
/** A registry host is `localhost`, has a dot or has a port (docker's rule). */
const REGISTRY = "(?:(?:localhost|[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)+)(?::[0-9]+)?|[A-Za-z0-9-]+:[0-9]+)";
const REPOSITORY = new RegExp(`^(?:${REGISTRY}/)?${COMPONENT}(?:/${COMPONENT})*$`);

/** Parses a reference; `undefined` when it is not one. */
export function parseImageRef(ref: string): ImageRef | undefined {
  let rest = ref.trim();
  if (rest !== ref || rest === "") return undefined;
  let digest: string | undefined;
  const d = DIGEST.exec(rest);
  if (d) {
    digest = d[1];
    rest = rest.slice(0, d.index);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf("/");
  const t = TAG.exec(rest.slice(lastSlash + 1));
  if (t) {
    tag = t[1];
    rest = rest.slice(0, rest.length - t[0].length);
  }
  if (!REPOSITORY.test(rest)) return undefined;
  return {
    repository: rest,
    ...(tag !== undefined ? { tag } : {}),
    ...(digest !== undefined ? { digest } : {}),
  };
}

/** Why `ref` is not a pinned image, or `undefined` when it is. */
export function imagePinProblem(ref: string): string | undefined {
  const parsed = parseImageRef(ref);
  if (!parsed) return "is not an image reference";
  if (parsed.digest) return undefined;
  if (parsed.tag === undefined) return "has no tag or digest, so it follows whatever is pushed last";
  if (parsed.tag === "latest") return "uses the latest tag, which is not a pinned version";
  return undefined;
}

/** What a pinned reference looks like, for messages. */
export const PINNED_IMAGE_EXPECTED = "a version tag (repo:1.2.3) or a digest (repo@sha256:…)";
