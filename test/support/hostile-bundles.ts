/**
 * Corrupt and hostile bundles, each made from a valid bundle (written by the one bundle writer)
 * with the bundle module's own tar codec and signing functions: unpack, change one thing,
 * (re-sign and reseal where the point is not the signature or the seal), repack. Every case names
 * the refusal it must earn. This file holds the archive, signature and seal cases;
 * `hostile-content.ts` those whose manifest is signed and whose content is wrong.
 */
import { createHash } from "node:crypto";
import { mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { execa } from "execa";
import type { BundleRefusal } from "../../workloads/bundle/errors.js";
import { signBytes, type SigningKey } from "../../workloads/bundle/keys.js";
import type { BundleLimits } from "../../workloads/bundle/limits.js";
import type { BundleManifest } from "../../workloads/shared/bundle-manifest.js";
import { paddingFor } from "../../workloads/bundle/tar.js";
import { find, pack, packTo, sealedGzip, tarOf, unpack, type Entry } from "./bundle-content.js";
import { CONTENT_CASES } from "./hostile-content.js";

export interface BaseBundle {
  /** A chaos cycle with every file kind; the cases are variations of it. */
  readonly path: string;
  /** A bundle already imported into the database the cases run against. */
  readonly stored: string;
  readonly key: SigningKey;
  /** A key the keyring does not hold (unless a case asks for `trustStranger`). */
  readonly strangerKey: SigningKey;
}

export interface HostileCase {
  readonly name: string;
  readonly reason: BundleRefusal;
  /** Where which layer notices first depends on the bytes (a flipped bit), the other layer's reason. */
  readonly alsoAccept?: readonly BundleRefusal[];
  /** Writes the hostile bundle into `dir` and returns its path. */
  readonly build: (base: BaseBundle, dir: string) => Promise<string>;
  /** Tighter limits for the size cases (defaults are gigabytes). */
  readonly limits?: Partial<BundleLimits>;
  /** Import with a keyring that trusts the key for env-2 only. */
  readonly keyringFor?: string;
  /** Import with a keyring that trusts the stranger key as well. */
  readonly trustStranger?: boolean;
  /** Text the refusal's message must contain: the file (and line) the case is about, not another. */
  readonly mentions?: string;
}

export const fileName = (reason: string, name: string) => `${reason}-${name.replace(/\W+/g, "_")}.tar.gz`;

const manifestOf = (entries: Entry[]): BundleManifest =>
  JSON.parse(find(entries, "manifest.json").data.toString()) as BundleManifest;

/** Replaces manifest.json (and, unless `key` is undefined, manifest.sig signed by `key`). */
function setManifest(entries: Entry[], manifest: unknown, key: SigningKey | undefined): void {
  const bytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
  find(entries, "manifest.json").data = bytes;
  if (key) find(entries, "manifest.sig").data = signBytes(key, bytes);
}

/** A case whose file `write` makes at the path it is given (named after the reason and the case). */
export function hostileCase(
  name: string,
  reason: BundleRefusal,
  write: (base: BaseBundle, out: string) => Promise<unknown>,
  extra: Partial<HostileCase> = {},
): HostileCase {
  return {
    name,
    reason,
    ...extra,
    build: async (base, dir) => {
      const out = join(dir, fileName(reason, name));
      await write(base, out);
      return out;
    },
  };
}

/** Builds a case from a function of the unpacked base entries, packed and sealed by the base key. */
const mutate = (
  name: string,
  reason: BundleRefusal,
  change: (entries: Entry[], base: BaseBundle) => void,
  extra: Partial<HostileCase> = {},
) =>
  hostileCase(
    name,
    reason,
    async (base, out) => {
      const entries = await unpack(base.path);
      change(entries, base);
      await packTo(out, entries, base.key);
    },
    extra,
  );

/** Builds a case from the compressed bytes of the base bundle. */
const bytes = (
  name: string,
  reason: BundleRefusal,
  change: (b: Buffer) => Buffer,
  extra: Partial<HostileCase> = {},
) => hostileCase(name, reason, async (base, out) => writeFile(out, change(await readFile(base.path))), extra);

/** Builds a case from raw tar bytes of the base entries, sealed by the base key. */
const sealedTar = (
  name: string,
  reason: BundleRefusal,
  change: (entries: Entry[], base: BaseBundle) => Buffer,
  extra: Partial<HostileCase> = {},
) =>
  hostileCase(
    name,
    reason,
    async (base, out) => writeFile(out, sealedGzip(change(await unpack(base.path), base), base.key)),
    extra,
  );

const ARCHIVE_CASES: readonly HostileCase[] = [
  bytes("a bit flipped in the gzip CRC", "corrupt_gzip", (b) => {
    const c = Buffer.from(b);
    const i = c.length - 8; // the trailer: CRC-32, then the length
    c[i] = c[i]! ^ 0x01;
    return c;
  }),
  bytes(
    "a bit flipped in the middle of the compressed data",
    "corrupt_gzip",
    (b) => {
      const c = Buffer.from(b);
      const i = Math.floor(c.length / 2);
      c[i] = c[i]! ^ 0x10;
      return c;
    },
    // Inflate may turn the flip into garbage that a tar header or an entry's sha256 shows first.
    { alsoAccept: ["corrupt_tar", "checksum_mismatch"] },
  ),
  bytes("truncated to 60 %", "truncated", (b) => b.subarray(0, Math.floor(b.length * 0.6))),
  bytes("truncated inside the sealed header", "bad_seal", (b) => b.subarray(0, 60), {
    alsoAccept: ["truncated"],
  }),
  bytes("not gzip at all", "corrupt_gzip", (b) => Buffer.concat([Buffer.from("PK\u0003\u0004"), b])),
  bytes("larger than the compressed limit", "archive_too_large", (b) => b, {
    limits: { maxCompressedBytes: 1024 },
  }),
  {
    name: "a directory named like a bundle",
    reason: "not_a_file",
    build: async (_base, dir) => {
      const out = join(dir, "not_a_file-directory.tar.gz");
      await mkdir(out, { recursive: true });
      return out;
    },
  },
  {
    name: "a FIFO named like a bundle (refused, not waited on)",
    reason: "not_a_file",
    build: async (_base, dir) => {
      const out = join(dir, "not_a_file-fifo.tar.gz");
      await execa("mkfifo", [out]);
      return out;
    },
  },
  {
    name: "a dangling symbolic link",
    reason: "unreadable",
    build: async (_base, dir) => {
      const out = join(dir, "unreadable-dangling.tar.gz");
      await symlink(join(dir, "nowhere"), out);
      return out;
    },
  },
  mutate("manifest edited after signing", "bad_signature", (e) => {
    const m = manifestOf(e);
    m.tier = "ultimate";
    setManifest(e, m, undefined);
  }),
  mutate("signature made by another key under the same key id", "bad_signature", (e, base) => {
    find(e, "manifest.sig").data = signBytes(base.strangerKey, find(e, "manifest.json").data);
  }),
  mutate("an empty manifest.sig", "bad_signature", (e) => (find(e, "manifest.sig").data = Buffer.alloc(0))),
  mutate("a manifest.sig of 65 bytes", "bad_signature", (e) => {
    const sig = find(e, "manifest.sig");
    sig.data = Buffer.concat([sig.data, Buffer.from([0])]);
  }),
  mutate("manifest signed by a key not in the keyring", "unknown_key", (e, base) => {
    const m = manifestOf(e);
    m.signing.key_id = base.strangerKey.keyId;
    setManifest(e, m, base.strangerKey);
  }),
  {
    name: "archive sealed by a key not in the keyring (refused before inflating)",
    reason: "unknown_key",
    build: async (base, dir) => {
      const entries = await unpack(base.path);
      const m = manifestOf(entries);
      m.signing.key_id = base.strangerKey.keyId;
      setManifest(entries, m, base.strangerKey);
      return pack(dir, "unknown_key-sealed-by-stranger.tar.gz", entries, base.strangerKey);
    },
  },
  mutate(
    "manifest signed by one trusted key, archive sealed by another",
    "bad_seal",
    (e, base) => {
      const m = manifestOf(e);
      m.signing.key_id = base.strangerKey.keyId;
      setManifest(e, m, base.strangerKey);
    },
    { trustStranger: true },
  ),
  mutate("key trusted for another environment", "untrusted_environment", () => undefined, {
    keyringFor: "env-2",
  }),
  mutate("a byte of samples.ndjson changed", "checksum_mismatch", (e) => {
    const s = find(e, "samples.ndjson");
    const i = s.data.indexOf(Buffer.from('"value":')) + 8;
    s.data[i] = s.data[i] === 0x31 ? 0x32 : 0x31;
  }),
  mutate("a line appended to events.ndjson", "size_mismatch", (e) => {
    const ev = find(e, "events.ndjson");
    ev.data = Buffer.concat([
      ev.data,
      Buffer.from('{"ts_ms":1,"phase":null,"kind":"cycle.aborted","detail":{}}\n'),
    ]);
  }),
  mutate("events.ndjson left out", "missing_file", (e) => e.splice(e.indexOf(find(e, "events.ndjson")), 1)),
  mutate("an extra file", "unlisted_file", (e) => e.push({ path: "notes.txt", data: Buffer.from("hello") })),
  mutate("a .. path", "path_traversal", (e) =>
    e.push({ path: "raw/../../escape.sh", data: Buffer.from("#!/bin/sh\n") }),
  ),
  mutate("an absolute path", "absolute_path", (e) =>
    e.push({ path: "/etc/cron.d/evil", data: Buffer.from("* * * * * root true\n") }),
  ),
  mutate("a name with a control character", "unsafe_path", (e) =>
    e.push({ path: "raw/bell\u0007.txt", data: Buffer.from("ding") }),
  ),
  mutate("a symlink", "symlink", (e) =>
    e.push({ path: "raw/passwd", data: Buffer.alloc(0), type: "symlink", linkname: "/etc/passwd" }),
  ),
  mutate("a hard link", "hard_link", (e) =>
    e.push({ path: "raw/shadow", data: Buffer.alloc(0), type: "hardlink", linkname: "/etc/shadow" }),
  ),
  mutate("a character device", "special_file", (e) =>
    e.push({ path: "raw/tty", data: Buffer.alloc(0), type: "chardev" }),
  ),
  mutate("a directory entry", "unsupported_entry", (e) =>
    e.unshift({ path: "raw", data: Buffer.alloc(0), type: "directory" }),
  ),
  mutate("a pax extended header", "unsupported_entry", (e) =>
    e.unshift({ path: "PaxHeader", data: Buffer.from("30 path=../../etc/passwd\n"), type: "pax" }),
  ),
  mutate("results.ndjson twice", "duplicate_entry", (e) => e.push({ ...find(e, "results.ndjson") })),
  mutate("a second manifest.json later in the archive", "duplicate_entry", (e) =>
    e.push({ ...find(e, "manifest.json") }),
  ),
  {
    name: "a gzip bomb: one listed entry far beyond the inflated limit",
    reason: "size_limit_exceeded",
    limits: { maxUncompressedBytes: 8 * 2 ** 20 },
    build: async (base, dir) => {
      const entries = await unpack(base.path);
      const zeros = Buffer.alloc(64 * 2 ** 20);
      entries.push({ path: "raw/zeros", data: zeros });
      const m = manifestOf(entries);
      m.files.push({
        path: "raw/zeros",
        size: zeros.length,
        sha256: createHash("sha256").update(zeros).digest("hex"),
      });
      m.files.sort((a, b) => a.path.localeCompare(b.path));
      setManifest(entries, m, base.key);
      return pack(dir, "size_limit_exceeded-bomb.tar.gz", entries, base.key);
    },
  },
  sealedTar(
    "a gzip bomb: zeros after the end-of-archive marker",
    "size_limit_exceeded",
    (entries) => Buffer.concat([tarOf(entries), Buffer.alloc(64 * 2 ** 20)]),
    { limits: { maxUncompressedBytes: 8 * 2 ** 20 } },
  ),
  sealedTar("data after the end-of-archive marker", "corrupt_tar", (entries) =>
    Buffer.concat([tarOf(entries), tarOf([{ path: "raw/late", data: Buffer.from("late") }])]),
  ),
  mutate("one entry over the per-entry limit", "entry_too_large", () => undefined, {
    limits: { maxEntryBytes: 1024 },
  }),
  mutate("cycle.json over its bound", "entry_too_large", () => undefined, { limits: { maxCycleBytes: 512 } }),
  mutate("results.ndjson over the bound of a file held in memory", "entry_too_large", () => undefined, {
    limits: { maxRecordFileBytes: 1024 },
  }),
  mutate("manifest.json over its bound", "malformed_manifest", () => undefined, {
    limits: { maxManifestBytes: 256 },
  }),
  mutate("more entries than the limit", "too_many_entries", () => undefined, { limits: { maxEntries: 3 } }),
  sealedTar("a damaged tar header", "corrupt_tar", (entries) => {
    const tar = tarOf(entries);
    // A byte of the second entry's name: its header checksum no longer matches.
    const second = 512 + entries[0]!.data.length + paddingFor(entries[0]!.data.length);
    tar[second + 3] = tar[second + 3]! ^ 0x20;
    return tar;
  }),
  mutate("no manifest.json", "missing_manifest", (e) => e.splice(e.indexOf(find(e, "manifest.json")), 1)),
  mutate("manifest.json not the first entry", "missing_manifest", (e) => {
    const m = find(e, "manifest.json");
    e.splice(e.indexOf(m), 1);
    e.splice(3, 0, m);
  }),
  mutate("no manifest.sig", "missing_signature", (e) => e.splice(e.indexOf(find(e, "manifest.sig")), 1)),
  mutate("manifest.sig after the data files", "missing_signature", (e) => {
    const sig = find(e, "manifest.sig");
    e.splice(e.indexOf(sig), 1);
    e.push(sig);
  }),
  {
    name: "a valid bundle re-packed as a plain gzip file (no seal)",
    reason: "bad_seal",
    build: async (base, dir) => pack(dir, "bad_seal-unsealed.tar.gz", await unpack(base.path)),
  },
  {
    name: "a plain gzip file of valid tar bytes",
    reason: "bad_seal",
    build: async (base, dir) => {
      const out = join(dir, "bad_seal-gzip.tar.gz");
      await writeFile(out, gzipSync(tarOf(await unpack(base.path))));
      return out;
    },
  },
  {
    name: "a gzip header byte changed (the OS field: same content, different file)",
    reason: "bad_seal",
    build: async (base, dir) => {
      const b = await readFile(base.path);
      b[9] = 0x03;
      const out = join(dir, "bad_seal-os-byte.tar.gz");
      await writeFile(out, b);
      return out;
    },
  },
  {
    name: "the same content re-compressed at another level under the old seal",
    reason: "bad_seal",
    build: async (base, dir) => {
      const original = await readFile(base.path);
      const out = await pack(dir, "bad_seal-recompressed.tar.gz", await unpack(base.path), base.key, 1);
      const repacked = await readFile(out);
      // Keep the original header (and its seal) in front of the new compressed bytes.
      original.copy(repacked, 0, 0, 112);
      await writeFile(out, repacked);
      return out;
    },
  },
];

export const HOSTILE_CASES: readonly HostileCase[] = [...ARCHIVE_CASES, ...CONTENT_CASES];
