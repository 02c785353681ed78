import { CYCLE_ID, CYCLE_ID_EXPECTED, ENVIRONMENT_ID } from "../../tiers/schema/names.js";
import { BUNDLE_SCHEMA_VERSION, BundleManifest } from "../shared/bundle-manifest.js";
import { BundleError } from "./errors.js";
import type { ListedFiles } from "./extract.js";
import { jsonTextProblem } from "./json-check.js";
import type { Keyring, TrustedKey } from "./keyring.js";
import { verifyBytes } from "./keys.js";
import { isLayoutPath, MANIFEST_FILE, REQUIRED_FILES, SIGNATURE_FILE, TRACES_FILE } from "./layout.js";
import { FORMAT_BOUNDS, type BundleLimits } from "./limits.js";

const KEY_ID = /^[0-9a-f]{64}$/;

export interface VerifiedManifest {
  readonly manifest: BundleManifest;
  readonly key: TrustedKey;
  readonly listed: ListedFiles;
}

function zodIssues(error: { issues: readonly { path: PropertyKey[]; message: string }[] }): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.map(String).join(".") || "(root)"}: ${i.message}`)
    .join("; ");
}

/** The key a keyring trusts for the manifest's key id, or a refusal naming why not. */
export function trustedKeyFor(keyring: Keyring, keyId: string, what: string): TrustedKey {
  const key = keyring.keys.get(keyId);
  if (!key)
    throw new BundleError(
      "unknown_key",
      `${what} key ${keyId.slice(0, 16)}…, which is not in keyring ${keyring.source}`,
    );
  return key;
}

/**
 * manifest.json and manifest.sig, checked in the order that keeps an unsigned or untrusted file
 * cheap: JSON → schema version → the key and the environment it is trusted for → the ed25519
 * signature over the exact bytes → the key that sealed the file → then, for a signed manifest, its
 * schema and what it says (ids, the files it lists, counts).
 */
export function verifyManifest(
  bytes: Buffer,
  signature: Buffer,
  keyring: Keyring,
  sealedBy: string,
  limits: BundleLimits,
): VerifiedManifest {
  let text: string;
  let json: unknown;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    json = JSON.parse(text);
  } catch (error) {
    throw new BundleError("malformed_manifest", `${MANIFEST_FILE} is not JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const raw = (json ?? {}) as {
    bundle_schema?: unknown;
    environment?: unknown;
    signing?: { key_id?: unknown };
  };
  if (typeof raw.bundle_schema === "number" && raw.bundle_schema !== BUNDLE_SCHEMA_VERSION)
    throw new BundleError(
      "unsupported_schema",
      `bundle schema ${raw.bundle_schema} is not one this importer reads (it reads ${BUNDLE_SCHEMA_VERSION})`,
    );
  const keyId = typeof raw.signing?.key_id === "string" ? raw.signing.key_id : undefined;
  if (typeof json !== "object" || json === null || keyId === undefined || !KEY_ID.test(keyId))
    throw new BundleError("malformed_manifest", `${MANIFEST_FILE}: signing.key_id: expected 64 hex digits`);
  if (typeof raw.environment !== "string")
    throw new BundleError("malformed_manifest", `${MANIFEST_FILE}: environment: expected a string`);
  const key = trustedKeyFor(keyring, keyId, "signed with");
  if (!key.environments.has("*") && !key.environments.has(raw.environment))
    throw new BundleError(
      "untrusted_environment",
      `key ${key.keyId.slice(0, 16)}… is trusted for ${[...key.environments].join(", ")}, not for ${JSON.stringify(raw.environment)}`,
    );
  if (!verifyBytes(key.publicKey, bytes, signature))
    throw new BundleError(
      "bad_signature",
      `${SIGNATURE_FILE} is not a valid signature of ${MANIFEST_FILE} by key ${key.keyId.slice(0, 16)}…`,
    );
  if (sealedBy !== keyId)
    throw new BundleError(
      "bad_seal",
      `the archive is sealed by key ${sealedBy.slice(0, 12)}…, the manifest signed by ${keyId.slice(0, 12)}…`,
    );

  const textProblem = jsonTextProblem(text, json);
  if (textProblem) throw new BundleError("malformed_manifest", `${MANIFEST_FILE}: ${textProblem}`);
  const parsed = BundleManifest.safeParse(json);
  if (!parsed.success)
    throw new BundleError("malformed_manifest", `${MANIFEST_FILE}: ${zodIssues(parsed.error)}`);
  const manifest = parsed.data;
  return { manifest, key, listed: checkListing(manifest, limits) };
}

/** What a well-formed, signed manifest can still get wrong; returns the files it lists. */
function checkListing(m: BundleManifest, limits: BundleLimits): ListedFiles {
  const content = (detail: string) => new BundleError("malformed_content", `${MANIFEST_FILE}: ${detail}`);
  if (!CYCLE_ID.test(m.cycle_id))
    throw content(`cycle_id ${JSON.stringify(m.cycle_id)} is not a cycle id (${CYCLE_ID_EXPECTED})`);
  if (!ENVIRONMENT_ID.test(m.environment))
    throw content(
      `environment ${JSON.stringify(m.environment)} is not an environment id (${ENVIRONMENT_ID.source})`,
    );
  for (const [what, n] of Object.entries(m.counts))
    if (n > FORMAT_BOUNDS.maxInt32) throw content(`counts.${what} ${n} is beyond ${FORMAT_BOUNDS.maxInt32}`);
  if (m.files.length > limits.maxEntries)
    throw new BundleError(
      "too_many_entries",
      `${MANIFEST_FILE} lists ${m.files.length} files; the limit is ${limits.maxEntries}`,
    );
  const listed = new Map<string, { size: number; sha256: string }>();
  for (const f of m.files) {
    if (listed.has(f.path))
      throw new BundleError("malformed_manifest", `${MANIFEST_FILE} lists ${f.path} twice`);
    if (f.path === MANIFEST_FILE || f.path === SIGNATURE_FILE)
      throw new BundleError("malformed_manifest", `${MANIFEST_FILE} lists itself or its signature as a file`);
    if (!isLayoutPath(f.path))
      throw content(
        `lists ${JSON.stringify(f.path)}, which is outside the Bundle v1 layout (${[...REQUIRED_FILES, TRACES_FILE].join(", ")}, raw/<name>)`,
      );
    listed.set(f.path, { size: f.size, sha256: f.sha256 });
  }
  for (const path of REQUIRED_FILES)
    if (!listed.has(path))
      throw new BundleError("missing_file", `required file ${path} is not in the manifest`);
  if (listed.has(TRACES_FILE) && m.counts.traces === undefined)
    throw content(`lists ${TRACES_FILE} but has no counts.traces`);
  if (!listed.has(TRACES_FILE) && m.counts.traces !== undefined)
    throw new BundleError("missing_file", `counts.traces is given but ${TRACES_FILE} is not in the manifest`);
  return listed;
}
