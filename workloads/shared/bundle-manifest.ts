import { z } from "zod";
import { REGION_ROLES } from "../../tiers/schema/names.js";

/** The bundle format version this code writes and the only one it reads. */
export const BUNDLE_SCHEMA_VERSION = 1;

/**
 * `manifest.json` of a Bundle v1 (`<env>-<cycleId>.tar.gz`). Files besides the manifest:
 * `cycle.json` (CycleSummary), `results.ndjson` (Result per line), `samples.ndjson` (Sample per
 * line), `events.ndjson` (CycleEvent per line), optionally `traces.ndjson` (SpanRecord per line), `raw/…` (tools' untouched output), and
 * `manifest.sig` (ed25519 over the exact bytes of manifest.json with the environment's key).
 */
export const BundleManifest = z.strictObject({
  bundle_schema: z.number().int().positive(),
  bundle_id: z.uuid(),
  cycle_id: z.string().min(1),
  tier: z.string().min(1),
  region: z.string().min(1),
  region_role: z.enum(REGION_ROLES),
  environment: z.string().min(1),
  created_at: z.string().datetime(),
  tools: z.array(z.strictObject({ name: z.string(), version: z.string().nullable() })),
  plan_hash: z.string().regex(/^[0-9a-f]{64}$/),
  config_hash: z.string().regex(/^[0-9a-f]{64}$/),
  signing: z.strictObject({
    algorithm: z.literal("ed25519"),
    /** sha256 (hex) of the environment's raw 32-byte public key. */
    key_id: z.string().regex(/^[0-9a-f]{64}$/),
  }),
  counts: z.strictObject({
    results: z.number().int().nonnegative(),
    samples: z.number().int().nonnegative(),
    events: z.number().int().nonnegative(),
    /** Lines of traces.ndjson; present exactly when the bundle has that file. */
    traces: z.number().int().nonnegative().optional(),
  }),
  files: z
    .array(
      z.strictObject({
        path: z.string().min(1),
        size: z.number().int().nonnegative(),
        sha256: z.string().regex(/^[0-9a-f]{64}$/),
      }),
    )
    .min(1),
});
export type BundleManifest = z.infer<typeof BundleManifest>;
