import type { KeyObject } from "node:crypto";
import { ConfigError, type ConfigIssue } from "../../tiers/config/issues.js";
import { MAX_CONFIG_BYTES, readTextFile } from "../../tiers/config/read-file.js";
import { ExitCode, TiersError } from "../../tiers/errors.js";
import { ENVIRONMENT_ID } from "../../tiers/schema/names.js";
import { keyIdOf, publicKeyFromRaw } from "./keys.js";

/**
 * The centre's list of trusted environment keys: a text file, one key per line,
 *
 *     <environment-id | *> ed25519 <base64 of the raw 32-byte public key> [comment …]
 *
 * `#` starts a comment line; blank lines are ignored. A key trusts bundles whose manifest names
 * that environment (`*`: any environment). The same key may appear on several lines for several
 * environments. `formatKeyringLine` prints a line for an environment's key.
 */
export interface TrustedKey {
  readonly keyId: string;
  readonly publicKey: KeyObject;
  /** Environment ids this key may sign for; `*` for any. */
  readonly environments: ReadonlySet<string>;
}

export interface Keyring {
  readonly source: string;
  readonly keys: ReadonlyMap<string, TrustedKey>;
}

export function formatKeyringLine(environment: string, publicRaw: Uint8Array, comment?: string): string {
  return `${environment} ed25519 ${Buffer.from(publicRaw).toString("base64")}${comment ? ` ${comment}` : ""}`;
}

/** Parses keyring text; every problem is reported at once with its line and column. */
export function parseKeyring(text: string, source: string): Keyring {
  const issues: ConfigIssue[] = [];
  const keys = new Map<string, { keyId: string; publicKey: KeyObject; environments: Set<string> }>();
  text.split("\n").forEach((rawLine, index) => {
    const line = rawLine.replace(/\r$/, "");
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return;
    const at = (needle: string): number => line.indexOf(needle) + 1;
    const issue = (path: string, message: string, col: number, got?: string, expected?: string): void => {
      issues.push({
        file: source,
        line: index + 1,
        col,
        path,
        message,
        ...(got !== undefined ? { got } : {}),
        ...(expected !== undefined ? { expected } : {}),
      });
    };
    const [environment, algorithm, key] = trimmed.split(/\s+/);
    if (algorithm === undefined || key === undefined) {
      issue(
        "line",
        "a key line has three fields",
        1,
        JSON.stringify(trimmed),
        "<environment|*> ed25519 <base64 key>",
      );
      return;
    }
    let ok = true;
    if (environment !== "*" && !ENVIRONMENT_ID.test(environment!)) {
      issue(
        "environment",
        "not an environment id",
        at(environment!),
        JSON.stringify(environment),
        `* or ${ENVIRONMENT_ID.source}`,
      );
      ok = false;
    }
    if (algorithm !== "ed25519") {
      issue("algorithm", "unsupported key algorithm", at(algorithm), JSON.stringify(algorithm), "ed25519");
      ok = false;
    }
    const raw = /^[A-Za-z0-9+/]+={0,2}$/.test(key) ? Buffer.from(key, "base64") : Buffer.alloc(0);
    if (raw.length !== 32) {
      issue("key", "not a base64 ed25519 public key", at(key), `${raw.length} bytes`, "32 bytes of base64");
      ok = false;
    }
    if (!ok) return;
    const keyId = keyIdOf(raw);
    const entry = keys.get(keyId) ?? {
      keyId,
      publicKey: publicKeyFromRaw(raw),
      environments: new Set<string>(),
    };
    entry.environments.add(environment!);
    keys.set(keyId, entry);
  });
  if (issues.length > 0) throw new ConfigError(issues, `invalid keyring ${source}`);
  return { source, keys };
}

/** Reads a keyring file (a regular UTF-8 file within the config bound) and parses it. */
export function loadKeyring(path: string): Promise<Keyring> {
  const read = readTextFile(path, { maxBytes: MAX_CONFIG_BYTES });
  if (read.text === undefined) {
    const [first] = read.issues;
    const problem = `${first!.message}${first!.line !== undefined ? ` at line ${first!.line}, column ${first!.col}` : ""}`;
    return Promise.reject(
      new TiersError(
        ExitCode.InvalidConfig,
        `keyring ${path} cannot be read (${problem}); ` +
          `it lists each environment's public key: "<environment> ed25519 <base64 key>"`,
      ),
    );
  }
  try {
    return Promise.resolve(parseKeyring(read.text, path));
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}
