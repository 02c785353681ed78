import { existsSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { ExitCode, TiersError } from "../../tiers/errors.js";
import type { Engine } from "./engine.js";
import {
  DEFAULT_REGISTRY,
  IMAGE_SPECS,
  imageRef,
  INPUTS_LABEL,
  inputsHash,
  projectVersion,
  REPO_ROOT,
  SOURCE_URL,
  type ImageName,
} from "./images.js";

export interface BuildOptions {
  readonly engine: Engine;
  /** The image the base starts FROM (NODE_IMAGE); unset: the Dockerfile's digest-pinned default. */
  readonly nodeImage?: string;
  /** @default the project's version */
  readonly tag?: string;
  /** @default ghcr.io/test-tiers */
  readonly registry?: string;
  /** A CA bundle handed to npm as a build secret (default: NODE_EXTRA_CA_CERTS when it names a file). */
  readonly caFile?: string;
  /** Only these images (in build order); default all. */
  readonly only?: readonly ImageName[];
  readonly say?: (line: string) => void;
  readonly signal?: AbortSignal;
  /** Build from this directory instead of the repository (a clean checkout). */
  readonly contextDir?: string;
  /** Extra image labels (`--label k=v`). */
  readonly labels?: Readonly<Record<string, string>>;
}

export interface BuiltImage {
  readonly name: ImageName;
  readonly ref: string;
  readonly id: string;
  readonly sizeBytes: number;
  readonly ms: number;
}

async function revision(): Promise<string> {
  const r = await execa("git", ["rev-parse", "HEAD"], { cwd: REPO_ROOT, reject: false });
  return r.exitCode === 0 ? r.stdout.trim() : "unknown";
}

/** The CA secret to pass, if any: the option, else NODE_EXTRA_CA_CERTS when it names a file. */
export function caSecretFile(
  option: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const file = option ?? env.NODE_EXTRA_CA_CERTS;
  return file !== undefined && file !== "" && existsSync(file) ? file : undefined;
}

/**
 * Builds every image in order, the base first and the thin images FROM the base just built, with
 * the CA bundle as a build secret (never a layer) and OCI labels for source, revision and version.
 * A failed build is an infrastructure error (exit 6) quoting the end of the engine's output.
 */
export async function buildImages(options: BuildOptions): Promise<BuiltImage[]> {
  const say = options.say ?? (() => undefined);
  const tag = options.tag ?? projectVersion();
  const registry = options.registry ?? DEFAULT_REGISTRY;
  const ca = caSecretFile(options.caFile);
  const rev = await revision();
  const context = options.contextDir ?? REPO_ROOT;
  let inputs = "unknown";
  try {
    inputs = inputsHash(context);
  } catch {
    // not a git checkout: the label says so
  }
  const built: BuiltImage[] = [];
  const baseRef = imageRef("base", tag, registry);
  for (const spec of IMAGE_SPECS) {
    if (options.only && !options.only.includes(spec.name)) continue;
    const ref = imageRef(spec.name, tag, registry);
    const from = spec.fromArg === "BASE_IMAGE" ? baseRef : options.nodeImage;
    const args = [
      "build",
      "--network",
      "host",
      // podman writes OCI images by default, which have no HEALTHCHECK: the docker format keeps it.
      ...(options.engine === "podman" ? ["--format", "docker"] : []),
      "-f",
      join(context, spec.dockerfile),
      "-t",
      ref,
      ...(from !== undefined ? ["--build-arg", `${spec.fromArg}=${from}`] : []),
      "--build-arg",
      `SOURCE=${SOURCE_URL}`,
      "--build-arg",
      `REVISION=${rev}`,
      "--build-arg",
      `VERSION=${tag}`,
      ...(ca !== undefined ? ["--secret", `id=ca,src=${ca}`] : []),
      "--label",
      `${INPUTS_LABEL}=${inputs}`,
      // The Dockerfiles' LABELs take these from the build args; podman 4.3 (buildah) may reuse a
      // cached LABEL layer made with other values, so the engine sets them on the image as well.
      "--label",
      `org.opencontainers.image.version=${tag}`,
      "--label",
      `org.opencontainers.image.revision=${rev}`,
      "--label",
      `org.opencontainers.image.source=${SOURCE_URL}`,
      ...Object.entries(options.labels ?? {}).flatMap(([k, v]) => ["--label", `${k}=${v}`]),
      context,
    ];
    say(
      `building ${ref} (${spec.dockerfile}${from !== undefined ? `, ${spec.fromArg}=${from}` : ""}${ca ? ", CA bundle as a build secret" : ""})`,
    );
    const t0 = Date.now();
    const r = await execa(options.engine, args, {
      reject: false,
      all: true,
      cancelSignal: options.signal,
      env: options.engine === "docker" ? { DOCKER_BUILDKIT: "1" } : {},
    });
    const ms = Date.now() - t0;
    if (r.isCanceled) throw new TiersError(ExitCode.Interrupted, `the build of ${ref} was interrupted`);
    if (r.exitCode !== 0) {
      const tail = (r.all ?? "").split("\n").slice(-25);
      throw new TiersError(
        ExitCode.Infrastructure,
        `building ${ref} from ${spec.dockerfile} failed (${options.engine} exit ${String(r.exitCode)})`,
        { details: tail },
      );
    }
    const inspect = await execa(options.engine, ["image", "inspect", "--format", "{{.Id}} {{.Size}}", ref]);
    const [id = "", size = "0"] = inspect.stdout.trim().split(" ");
    built.push({ name: spec.name, ref, id, sizeBytes: Number(size), ms });
    say(`built ${ref} in ${(ms / 1000).toFixed(1)} s (${(Number(size) / 1e6).toFixed(0)} MB)`);
  }
  return built;
}
