import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from "node:crypto";
import { mkdir, open, readFile, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { ExitCode, TiersError } from "../../tiers/errors.js";

/** An environment's ed25519 signing key. `keyId` is sha256 (hex) of the raw 32-byte public key. */
export interface SigningKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly publicRaw: Buffer;
  readonly keyId: string;
}

/** An ed25519 signature is always 64 bytes; manifest.sig holds exactly those bytes. */
export const SIGNATURE_BYTES = 64;

/** The raw 32 bytes of an ed25519 public key (the JWK `x`). */
export function rawPublicKey(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: "jwk" });
  if (jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || typeof jwk.x !== "string")
    throw new TiersError(ExitCode.InvalidConfig, "not an ed25519 key");
  return Buffer.from(jwk.x, "base64url");
}

export function publicKeyFromRaw(raw: Uint8Array): KeyObject {
  if (raw.length !== 32)
    throw new TiersError(ExitCode.InvalidConfig, `an ed25519 public key is 32 bytes, got ${raw.length}`);
  return createPublicKey({
    key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(raw).toString("base64url") },
    format: "jwk",
  });
}

export function keyIdOf(publicRaw: Uint8Array): string {
  return createHash("sha256").update(publicRaw).digest("hex");
}

function fromPrivate(privateKey: KeyObject): SigningKey {
  if (privateKey.asymmetricKeyType !== "ed25519")
    throw new TiersError(
      ExitCode.InvalidConfig,
      `expected an ed25519 private key, got ${privateKey.asymmetricKeyType}`,
    );
  const publicKey = createPublicKey(privateKey);
  const publicRaw = rawPublicKey(publicKey);
  return { privateKey, publicKey, publicRaw, keyId: keyIdOf(publicRaw) };
}

/**
 * Creates a new key and writes it to `path` as PKCS#8 PEM with mode 0600. The file is created
 * exclusively: an existing key is never overwritten.
 */
export async function generateSigningKey(path: string): Promise<SigningKey> {
  const { privateKey } = generateKeyPairSync("ed25519");
  const pem = privateKey.export({ format: "pem", type: "pkcs8" });
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  let handle;
  try {
    handle = await open(path, "wx", 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST")
      throw new TiersError(
        ExitCode.InvalidConfig,
        `signing key ${path} already exists; refusing to overwrite it`,
        {
          cause: error,
        },
      );
    throw error;
  }
  try {
    await handle.writeFile(pem);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return fromPrivate(privateKey);
}

/**
 * Loads a PKCS#8 PEM ed25519 key, refusing a file others may read or group may write (like ssh).
 * Group read is allowed: a Kubernetes Secret volume gives the pod's fsGroup read access (0440),
 * the only way a non-root container can read a file the kubelet owns.
 */
export async function loadSigningKey(path: string): Promise<SigningKey> {
  let mode: number;
  try {
    mode = (await stat(path)).mode & 0o777;
  } catch (error) {
    throw new TiersError(
      ExitCode.InvalidConfig,
      `signing key ${path} cannot be read: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  if ((mode & 0o027) !== 0)
    throw new TiersError(
      ExitCode.InvalidConfig,
      `signing key ${path} is open to others or writable by its group (mode ${mode.toString(8).padStart(4, "0")}); run chmod 600 ${path}`,
    );
  try {
    return fromPrivate(createPrivateKey(await readFile(path)));
  } catch (error) {
    if (error instanceof TiersError) throw error;
    throw new TiersError(
      ExitCode.InvalidConfig,
      `signing key ${path} is not a PEM private key: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}

/** The environment's key at `path`, created on first use. */
export async function loadOrCreateSigningKey(path: string): Promise<SigningKey> {
  try {
    await stat(path);
  } catch {
    try {
      return await generateSigningKey(path);
    } catch (error) {
      // Another process created it first: load theirs.
      if (!(error instanceof TiersError && /already exists/.test(error.message))) throw error;
    }
  }
  return loadSigningKey(path);
}

export function signBytes(key: SigningKey, bytes: Uint8Array): Buffer {
  return sign(null, bytes, key.privateKey);
}

export function verifyBytes(publicKey: KeyObject, bytes: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== SIGNATURE_BYTES) return false;
  return verify(null, bytes, publicKey, signature);
}
