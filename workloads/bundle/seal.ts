import { createHash, sign, verify, type KeyObject } from "node:crypto";
import { BundleError } from "./errors.js";
import type { SigningKey } from "./keys.js";

/**
 * The archive seal: the environment's ed25519 signature over the bundle file's compressed bytes,
 * carried in the gzip header's FEXTRA field (subfield "TS"), which every gzip reader skips. The
 * manifest signature covers what the bundle says; the seal covers how it is stored, so no byte of
 * the file can change unnoticed — not a gzip header field (mtime, OS), not the unused bits of the
 * deflate stream's last byte, which decompress to the same content.
 *
 * Layout of the 112-byte header (every byte but the 96 of key id and signature is fixed):
 * `1f 8b 08 04 | 00 00 00 00 | 00 ff | 64 00 | 'T' 'S' | 60 00 | key_id (32) | signature (64)`,
 * then the raw deflate stream, CRC32 and ISIZE. The signature is over
 * `"test-tiers bundle archive v1\0" + sha256(everything after the header)`.
 */
export const SEAL_HEADER_BYTES = 112;
const KEY_ID_AT = 16;
const SIGNATURE_AT = 48;
const DOMAIN = Buffer.from("test-tiers bundle archive v1\0", "latin1");

/** The fixed part of the header, with zeroed key id and signature. */
export function sealHeaderTemplate(): Buffer {
  const h = Buffer.alloc(SEAL_HEADER_BYTES);
  h.set([0x1f, 0x8b, 0x08, 0x04, 0, 0, 0, 0, 0x00, 0xff, 100, 0, 0x54, 0x53, 96, 0], 0);
  return h;
}

function message(bodySha256: Buffer): Buffer {
  return Buffer.concat([DOMAIN, bodySha256]);
}

/** The 96 bytes (key id, signature) to write at offset 16 of the header. */
export function sealFor(key: SigningKey, bodySha256: Buffer): Buffer {
  return Buffer.concat([Buffer.from(key.keyId, "hex"), sign(null, message(bodySha256), key.privateKey)]);
}

export const SEAL_OFFSET = KEY_ID_AT;

/**
 * Checks the first bytes of a bundle file, before anything is inflated: a gzip file (else
 * `corrupt_gzip`) whose header is exactly the sealed layout (else `bad_seal`). Returns the id of
 * the key that sealed it.
 */
export function checkSealHeader(header: Buffer): string {
  const template = sealHeaderTemplate();
  if (header.length >= 2 && (header[0] !== 0x1f || header[1] !== 0x8b))
    throw new BundleError(
      "corrupt_gzip",
      `not a gzip file: it starts with 0x${header.subarray(0, 2).toString("hex")}, gzip with 0x1f8b`,
    );
  if (header.length < SEAL_HEADER_BYTES)
    throw new BundleError("bad_seal", "the file is shorter than a sealed bundle header");
  for (let i = 0; i < KEY_ID_AT; i++) {
    if (header[i] !== template[i]) {
      const what =
        i < 3
          ? "the gzip magic/method"
          : i === 3
            ? "the gzip flags"
            : i < 8
              ? "the gzip mtime"
              : i === 8
                ? "the gzip XFL byte"
                : i === 9
                  ? "the gzip OS byte"
                  : "the seal field's layout";
      throw new BundleError(
        "bad_seal",
        `the archive is not sealed as the bundle writer seals it: byte ${i} (${what}) is 0x${header[i]!.toString(16).padStart(2, "0")}, expected 0x${template[i]!.toString(16).padStart(2, "0")}`,
      );
    }
  }
  return header.subarray(KEY_ID_AT, SIGNATURE_AT).toString("hex");
}

/**
 * Checks a bundle file's seal once all of it was read: the header holds (`checkSealHeader`), the
 * key that sealed it signed the manifest, and the signature holds over the bytes after it.
 */
export function checkSeal(header: Buffer, bodySha256: Buffer, keyId: string, publicKey: KeyObject): void {
  const sealedBy = checkSealHeader(header);
  if (sealedBy !== keyId) {
    throw new BundleError(
      "bad_seal",
      `the archive is sealed by key ${sealedBy.slice(0, 12)}…, the manifest signed by ${keyId.slice(0, 12)}…`,
    );
  }
  if (!verify(null, message(bodySha256), publicKey, header.subarray(SIGNATURE_AT, SEAL_HEADER_BYTES))) {
    throw new BundleError(
      "bad_seal",
      "the archive seal does not verify: its compressed bytes changed after it was written",
    );
  }
}

/** sha256 over a stream's bytes after the first `skip`, and those first bytes. */
export class SealTap {
  readonly header = Buffer.alloc(SEAL_HEADER_BYTES);
  private seen = 0;
  private readonly hash = createHash("sha256");

  push(chunk: Buffer): void {
    if (this.seen < SEAL_HEADER_BYTES) {
      const take = Math.min(SEAL_HEADER_BYTES - this.seen, chunk.length);
      chunk.copy(this.header, this.seen, 0, take);
      this.seen += take;
      if (take < chunk.length) this.hash.update(chunk.subarray(take));
      return;
    }
    this.hash.update(chunk);
  }

  get complete(): boolean {
    return this.seen >= SEAL_HEADER_BYTES;
  }

  digest(): Buffer {
    return this.hash.digest();
  }
}
