import { z } from "zod";
import { ConfigError } from "../../tiers/config/issues.js";
import { validateSource } from "../../tiers/config/validate.js";
import { readYamlFile } from "../../tiers/config/yaml-source.js";

/**
 * Where an environment's bundles go, from the `environment.json` the stack mounts into the pod
 * (`TIERS_ENVIRONMENT_CONFIG`; IsolatedEnvironment writes it): its own prefix of the region's
 * bucket on EKS (uploaded with the pod's IRSA role), or its volume where no bucket exists (the
 * `local` stack, and the local target, which has no such file).
 */
export const BundleStoreConfig = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("s3"),
    bucket: z.string().min(3).max(63),
    /** `bundles/<env id>/`: the only prefix the environment's role may write. */
    prefix: z.string().regex(/^[A-Za-z0-9._/-]*\/$/, { message: "expected a key prefix ending in /" }),
    region: z.string().min(1),
  }),
  z.strictObject({ kind: z.literal("volume"), path: z.string().min(1) }),
]);
export type BundleStoreConfig = z.infer<typeof BundleStoreConfig>;

export const EnvironmentFile = z.strictObject({
  stack: z.string().min(1),
  tier: z.string().min(1),
  region: z.string().min(1),
  role: z.string().min(1),
  environment: z.string().min(1),
  bundles: BundleStoreConfig,
});
export type EnvironmentFile = z.infer<typeof EnvironmentFile>;

/**
 * Reads and checks an environment file; every problem at once (exit 3). Its `environment` must be
 * the one the orchestrator serves: a pod mounted with another environment's file would upload
 * under a prefix its role cannot write, or worse, one it can.
 */
export function loadEnvironmentFile(file: string, environment: string): EnvironmentFile {
  const read = readYamlFile(file);
  if (!read.source) throw new ConfigError(read.issues, "invalid environment file");
  const checked = validateSource(EnvironmentFile, read.source);
  if (!checked.value) throw new ConfigError([...read.issues, ...checked.issues], "invalid environment file");
  if (checked.value.environment !== environment) {
    throw new ConfigError(
      [
        {
          ...read.source.positionOf(["environment"]),
          path: "environment",
          message: "is not the environment this orchestrator serves",
          got: JSON.stringify(checked.value.environment),
          expected: JSON.stringify(environment),
        },
      ],
      "invalid environment file",
    );
  }
  return checked.value;
}
