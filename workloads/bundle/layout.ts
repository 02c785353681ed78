/** The fixed file names of a Bundle v1 (`../shared/bundle-manifest.ts` describes each). */
export const MANIFEST_FILE = "manifest.json";
export const SIGNATURE_FILE = "manifest.sig";

export const BUNDLE_FILES = {
  cycle: "cycle.json",
  results: "results.ndjson",
  samples: "samples.ndjson",
  events: "events.ndjson",
} as const;

/**
 * The cycle's spans (`SpanRecord` per line) when no OTLP endpoint took them: optional, so bundles
 * written before traces existed, and those of environments exporting over OTLP, lack it.
 */
export const TRACES_FILE = "traces.ndjson";

/** Files a bundle may list besides the required ones and raw/. */
export const OPTIONAL_FILES: readonly string[] = [TRACES_FILE];

/** Files every bundle must list (raw/ files are optional). */
export const REQUIRED_FILES: readonly string[] = Object.values(BUNDLE_FILES);

/** `<env>-<cycleId>.tar.gz`, the name the design card gives a bundle. */
export function bundleFileName(environment: string, cycleId: string): string {
  return `${environment}-${cycleId}.tar.gz`;
}

/** Where raw tool outputs go: `raw/<name>`, one flat name each. */
export const RAW_DIR = "raw/";

/**
 * True for a path the Bundle v1 layout has room for: the four required files, `traces.ndjson`
 * and flat `raw/<name>` files. Anything else is refused even when the manifest lists it (`malformed_content`).
 */
export function isLayoutPath(path: string): boolean {
  if (REQUIRED_FILES.includes(path) || OPTIONAL_FILES.includes(path)) return true;
  return (
    path.startsWith(RAW_DIR) && path.length > RAW_DIR.length && !path.slice(RAW_DIR.length).includes("/")
  );
}
