import { ExitCode, TiersError, type TiersErrorOptions } from "../../tiers/errors.js";
import { escapeControls } from "../../tiers/safe-text.js";

/**
 * Every reason a bundle is refused, with what it means. The code is machine-readable (the
 * importer writes it in `rejected/<file>.reason.txt`); the message that comes with it names the
 * file, entry, line or value concerned.
 */
export const BUNDLE_REFUSALS = {
  not_a_file: "the path is a directory, FIFO, device or socket, not a bundle file",
  unreadable: "the file cannot be opened (permissions, a dangling link)",
  archive_too_large: "the compressed archive is larger than the size limit",
  size_limit_exceeded: "the archive inflates beyond the uncompressed size limit (gzip bomb)",
  entry_too_large:
    "one entry is larger than the per-entry size limit, or cycle.json, results.ndjson or events.ndjson larger than theirs",
  too_many_entries: "the archive holds, or the manifest lists, more entries than the limit",
  corrupt_gzip: "the gzip stream is damaged (bad header, bad data or CRC mismatch)",
  truncated: "the archive ends early",
  corrupt_tar: "a tar header is damaged or not POSIX ustar, or data follows the end-of-archive marker",
  absolute_path: "an entry has an absolute path",
  path_traversal: "an entry path has a `..` component",
  unsafe_path: "an entry path is empty, too long or has characters outside [A-Za-z0-9._-/]",
  symlink: "an entry is a symbolic link",
  hard_link: "an entry is a hard link",
  special_file: "an entry is a device file or FIFO",
  unsupported_entry: "an entry is a directory, an extended header or another non-regular type",
  duplicate_entry: "two entries have the same path",
  missing_manifest: "manifest.json is absent, or not the archive's first entry",
  missing_signature: "manifest.sig is absent, or not the archive's second entry",
  malformed_manifest:
    "manifest.json is larger than its bound, not JSON, repeats a key, holds NUL or an unpaired surrogate, lists a file twice, or does not match the Bundle v1 schema",
  unsupported_schema: "the bundle schema version is not one this importer reads",
  unknown_key: "the archive is sealed, or the manifest signed, by a key that is not in the keyring",
  untrusted_environment: "the key is in the keyring but not trusted for the bundle's environment",
  bad_signature: "manifest.sig is not a valid ed25519 signature of manifest.json by the key",
  unlisted_file: "the archive holds a file the manifest does not list",
  missing_file: "the manifest lists a file (or a required file is absent) that the archive lacks",
  size_mismatch: "a file's size differs from the manifest",
  checksum_mismatch: "a file's sha256 differs from the manifest",
  malformed_content:
    "what the signed bundle says cannot be stored as it says: a line of results/samples/events or cycle.json that is not JSON, " +
    "breaks its schema, exceeds the line length, repeats a key, phase, gate rule, result, test or check, collides with a " +
    "name the database keys on, ends before it starts, holds NUL or an unpaired surrogate, an id outside its grammar, an " +
    "integer beyond 32 bits; or a file listed outside the Bundle v1 layout",
  count_mismatch: "the number of results, samples or events differs from the manifest's counts",
  cycle_mismatch:
    "a file names another cycle, tier or plan than the manifest, or the database holds the cycle with another tier, suite or plan",
  environment_mismatch: "a file names another environment or region than the manifest",
  dangling_reference: "a result points to a raw file that is not in the bundle",
  bad_seal:
    "the archive's seal (the environment's signature over its compressed bytes) is missing or does not verify",
  duplicate_cycle: "another bundle of the same cycle and environment is already stored",
  duplicate_result: "a result id of the bundle is already stored from another bundle",
  bundle_conflict: "a bundle with the same id is already stored with other content",
} as const;

export type BundleRefusal = keyof typeof BUNDLE_REFUSALS;

/** A refused bundle: exit code 7, a `reason` code from `BUNDLE_REFUSALS` and a message naming the culprit. */
export class BundleError extends TiersError {
  override readonly name = "BundleError";
  readonly reason: BundleRefusal;
  /** The message without the `bundle refused (<reason>):` prefix. */
  readonly detail: string;

  /** `detail` may quote what the bundle holds: its control and bidi characters are made visible. */
  constructor(reason: BundleRefusal, detail: string, options: TiersErrorOptions = {}) {
    const safe = escapeControls(detail, { lines: false });
    super(ExitCode.BundleRejected, `bundle refused (${reason}): ${safe}`, options);
    this.reason = reason;
    this.detail = safe;
  }
}

export function isBundleError(error: unknown, reason?: BundleRefusal): error is BundleError {
  return error instanceof BundleError && (reason === undefined || error.reason === reason);
}
