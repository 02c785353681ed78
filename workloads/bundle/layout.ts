/** The fixed file names of a Bundle v1 (`../shared/bundle-manifest.ts` describes each). */
export const MANIFEST_FILE = "manifest.json";
export const SIGNATURE_FILE = "manifest.sig";

export const BUNDLE_FILES = {
  cycle: "cycle.json",
  results: "results.ndjson",
  samples: "samples.ndjson",
  events: "events.ndjson",
} as const;

/** Files every bundle must list (raw/ files are optional). */
export const REQUIRED_FILES: readonly string[] = Object.values(BUNDLE_FILES);

/** `<env>-<cycleId>.tar.gz`, the name the design card gives a bundle. */
export function bundleFileName(environment: string, cycleId: string): string {
  return `${environment}-${cycleId}.tar.gz`;
}
