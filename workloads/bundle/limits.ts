/** Hard limits the reader enforces while it streams an archive; anything beyond is refused. */
export interface BundleLimits {
  /** Size of the `.tar.gz` file itself. */
  readonly maxCompressedBytes: number;
  /** Sum of everything gunzip produces (headers, data, padding): the gzip-bomb fence. */
  readonly maxUncompressedBytes: number;
  /** One entry's declared size. */
  readonly maxEntryBytes: number;
  /** Number of entries. */
  readonly maxEntries: number;
  /** manifest.json (read into memory). */
  readonly maxManifestBytes: number;
}

const GiB = 2 ** 30;
const MiB = 2 ** 20;

/**
 * Defaults sized for the largest bundle we expect (a long ultimate cycle: a few million samples,
 * a few hundred MB of ndjson) with an order of magnitude to spare.
 */
export const DEFAULT_BUNDLE_LIMITS: BundleLimits = {
  maxCompressedBytes: 1 * GiB,
  maxUncompressedBytes: 4 * GiB,
  maxEntryBytes: 2 * GiB,
  maxEntries: 100_000,
  maxManifestBytes: 16 * MiB,
};

export function resolveLimits(overrides: Partial<BundleLimits> = {}): BundleLimits {
  return { ...DEFAULT_BUNDLE_LIMITS, ...overrides };
}
