/**
 * Every bound the bundle reader (and the writer, which never writes beyond them) enforces, in one
 * place. The README lists them ("Bundle bounds"); a change here is a change there.
 */

/** Hard limits the reader enforces while it streams an archive; anything beyond is refused. */
export interface BundleLimits {
  /** Size of the `.tar.gz` file itself. */
  readonly maxCompressedBytes: number;
  /** Sum of everything gunzip produces (headers, data, padding): the gzip-bomb fence. */
  readonly maxUncompressedBytes: number;
  /** One entry's declared size. */
  readonly maxEntryBytes: number;
  /** Number of entries (and of files a manifest may list). */
  readonly maxEntries: number;
  /** manifest.json (read into memory, parsed before anything else is inflated). */
  readonly maxManifestBytes: number;
  /** cycle.json (read into memory). */
  readonly maxCycleBytes: number;
  /** results.ndjson and events.ndjson each: their records are held in memory to be checked as a whole. */
  readonly maxRecordFileBytes: number;
  /** One line of an ndjson file, newline excluded: memory stays bounded whatever the line. */
  readonly maxLineBytes: number;
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
  maxCycleBytes: 16 * MiB,
  maxRecordFileBytes: 256 * MiB,
  maxLineBytes: 1 * MiB,
};

/** Bounds of the format itself, not tunable. */
export const FORMAT_BOUNDS = {
  /** An entry path (ustar prefix + name). */
  maxPathBytes: 255,
  /** Nesting of objects and arrays in any JSON value of a bundle. */
  maxJsonDepth: 32,
  /**
   * Integers stored in 32-bit columns (attempt, exit code, phase index, counts): PostgreSQL's
   * `integer` holds −2³¹ … 2³¹ − 1, and a bundle must store the same on both databases.
   */
  minInt32: -(2 ** 31),
  maxInt32: 2 ** 31 - 1,
} as const;

export function resolveLimits(overrides: Partial<BundleLimits> = {}): BundleLimits {
  return { ...DEFAULT_BUNDLE_LIMITS, ...overrides };
}
