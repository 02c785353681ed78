/**
 * Corrupt and hostile bundles, each made from a valid bundle (written by the one bundle writer)
 * with the bundle module's own tar codec and signing functions: unpack, change one thing,
 * (re-sign where the point is not the signature), repack. Every case names the refusal it must
 * earn.
 */
import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { scanTarGz } from "../../workloads/bundle/archive-reader.js";
import { writeTarGz, type ArchiveEntry } from "../../workloads/bundle/archive-writer.js";
import type { BundleRefusal } from "../../workloads/bundle/errors.js";
import { signBytes, type SigningKey } from "../../workloads/bundle/keys.js";
import type { BundleLimits } from "../../workloads/bundle/limits.js";
import { encodeTarHeader, END_OF_ARCHIVE, paddingFor, type TarType } from "../../workloads/bundle/tar.js";
import type { BundleManifest } from "../../workloads/shared/bundle-manifest.js";

interface Entry {
  path: string;
  data: Buffer;
  type?: TarType;
  linkname?: string;
}

export interface BaseBundle {
  readonly path: string;
  readonly key: SigningKey;
  /** A key the keyring does not hold. */
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
}

async function unpack(path: string): Promise<Entry[]> {
  const entries: Entry[] = [];
  const big = 2 ** 40;
  await scanTarGz(
    path,
    {
      maxCompressedBytes: big,
      maxUncompressedBytes: big,
      maxEntryBytes: big,
      maxEntries: 1e6,
      maxManifestBytes: big,
    },
    (header) => {
      const chunks: Buffer[] = [];
      return {
        write: (c) => chunks.push(Buffer.from(c)),
        end: () => entries.push({ path: header.path, data: Buffer.concat(chunks) }),
      };
    },
  );
  return entries;
}

/** Packs entries as the writer does; sealed with `key` (an attacker who holds the key, or none). */
async function pack(
  dir: string,
  name: string,
  entries: readonly Entry[],
  key?: SigningKey,
  level = 6,
): Promise<string> {
  const out = join(dir, name);
  const archive: ArchiveEntry[] = entries.map((e) => ({
    header: {
      path: e.path,
      size: e.data.length,
      mtime: 1_736_000_000,
      ...(e.type ? { type: e.type } : {}),
      ...(e.linkname ? { linkname: e.linkname } : {}),
    },
    data: e.data,
  }));
  await writeTarGz(out, archive, level, key);
  return out;
}

const find = (entries: Entry[], path: string): Entry => {
  const e = entries.find((x) => x.path === path);
  if (!e) throw new Error(`no ${path} in the base bundle`);
  return e;
};

const manifestOf = (entries: Entry[]): BundleManifest =>
  JSON.parse(find(entries, "manifest.json").data.toString()) as BundleManifest;

/** Replaces manifest.json (and, unless `sign` is false, manifest.sig signed by `key`). */
function setManifest(entries: Entry[], manifest: unknown, key: SigningKey | undefined): void {
  const bytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
  find(entries, "manifest.json").data = bytes;
  if (key) find(entries, "manifest.sig").data = signBytes(key, bytes);
}

/** Replaces a file's content and records its new size and sha256 in a re-signed manifest. */
function rewriteFile(
  entries: Entry[],
  path: string,
  data: Buffer,
  key: SigningKey,
  patch?: (m: BundleManifest) => void,
): void {
  find(entries, path).data = data;
  const m = manifestOf(entries);
  const f = m.files.find((x) => x.path === path)!;
  f.size = data.length;
  f.sha256 = createHash("sha256").update(data).digest("hex");
  patch?.(m);
  setManifest(entries, m, key);
}

/** An uncompressed archive of regular files, for cases that damage bytes the writer would not. */
function tarOf(entries: readonly Entry[]): Buffer {
  return Buffer.concat([
    ...entries.flatMap((e) => [
      encodeTarHeader({ path: e.path, size: e.data.length, mtime: 0 }),
      e.data,
      Buffer.alloc(paddingFor(e.data.length)),
    ]),
    END_OF_ARCHIVE,
  ]);
}

const lines = (b: Buffer) => b.toString().trimEnd().split("\n");

/** Builds a case from a function of the unpacked base entries. */
function mutate(
  name: string,
  reason: BundleRefusal,
  change: (entries: Entry[], base: BaseBundle) => void,
  extra: Partial<HostileCase> = {},
): HostileCase {
  return {
    name,
    reason,
    ...extra,
    build: async (base, dir) => {
      const entries = await unpack(base.path);
      change(entries, base);
      return pack(dir, `${reason}-${name.replace(/\W+/g, "_")}.tar.gz`, entries, base.key);
    },
  };
}

/** Builds a case from the compressed bytes of the base bundle. */
function bytes(
  name: string,
  reason: BundleRefusal,
  change: (b: Buffer) => Buffer,
  extra: Partial<HostileCase> = {},
): HostileCase {
  return {
    name,
    reason,
    ...extra,
    build: async (base, dir) => {
      const out = join(dir, `${reason}-${name.replace(/\W+/g, "_")}.tar.gz`);
      await writeFile(out, change(await readFile(base.path)));
      return out;
    },
  };
}

export const HOSTILE_CASES: readonly HostileCase[] = [
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
    // Inflate may turn the flip into garbage that a tar header shows before the CRC is reached.
    { alsoAccept: ["corrupt_tar"] },
  ),
  bytes("truncated to 60 %", "truncated", (b) => b.subarray(0, Math.floor(b.length * 0.6))),
  bytes("not gzip at all", "corrupt_gzip", (b) => Buffer.concat([Buffer.from("PK\u0003\u0004"), b])),
  bytes("larger than the compressed limit", "archive_too_large", (b) => b, {
    limits: { maxCompressedBytes: 1024 },
  }),
  mutate("manifest edited after signing", "bad_signature", (e) => {
    const m = manifestOf(e);
    m.tier = "ultimate";
    setManifest(e, m, undefined);
  }),
  mutate("signature made by another key under the same key id", "bad_signature", (e, base) => {
    find(e, "manifest.sig").data = signBytes(base.strangerKey, find(e, "manifest.json").data);
  }),
  mutate("signed by a key not in the keyring", "unknown_key", (e, base) => {
    const m = manifestOf(e);
    m.signing.key_id = base.strangerKey.keyId;
    setManifest(e, m, base.strangerKey);
  }),
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
  {
    name: "a gzip bomb: one entry far beyond the inflated limit",
    reason: "size_limit_exceeded",
    limits: { maxUncompressedBytes: 8 * 2 ** 20 },
    build: async (base, dir) => {
      const entries = await unpack(base.path);
      entries.push({ path: "raw/zeros", data: Buffer.alloc(64 * 2 ** 20) });
      return pack(dir, "size_limit_exceeded-bomb.tar.gz", entries);
    },
  },
  {
    name: "a gzip bomb: zeros after the end-of-archive marker",
    reason: "size_limit_exceeded",
    limits: { maxUncompressedBytes: 8 * 2 ** 20 },
    build: async (base, dir) => {
      const tar = Buffer.concat([tarOf(await unpack(base.path)), Buffer.alloc(64 * 2 ** 20)]);
      const out = join(dir, "size_limit_exceeded-trailing.tar.gz");
      await writeFile(out, gzipSync(tar));
      return out;
    },
  },
  mutate("one entry over the per-entry limit", "entry_too_large", () => undefined, {
    limits: { maxEntryBytes: 1024 },
  }),
  mutate("more entries than the limit", "too_many_entries", () => undefined, { limits: { maxEntries: 3 } }),
  {
    name: "a damaged tar header",
    reason: "corrupt_tar",
    build: async (base, dir) => {
      const entries = await unpack(base.path);
      const tar = tarOf(entries);
      // A byte of the second entry's name: its header checksum no longer matches.
      const second = 512 + entries[0]!.data.length + paddingFor(entries[0]!.data.length);
      tar[second + 3] = tar[second + 3]! ^ 0x20;
      const out = join(dir, "corrupt_tar.tar.gz");
      await writeFile(out, gzipSync(tar));
      return out;
    },
  },
  mutate("no manifest.json", "missing_manifest", (e) => e.splice(e.indexOf(find(e, "manifest.json")), 1)),
  mutate("no manifest.sig", "missing_signature", (e) => e.splice(e.indexOf(find(e, "manifest.sig")), 1)),
  mutate("manifest.json is not JSON", "malformed_manifest", (e, base) => {
    const bad = Buffer.from("{ bundle_schema: 1 ");
    find(e, "manifest.json").data = bad;
    find(e, "manifest.sig").data = signBytes(base.key, bad);
  }),
  mutate("a future schema version", "unsupported_schema", (e, base) => {
    const m = manifestOf(e);
    m.bundle_schema = 2;
    setManifest(e, m, base.key);
  }),
  mutate("manifest counts one result more than results.ndjson has", "count_mismatch", (e, base) => {
    const m = manifestOf(e);
    m.counts.results += 1;
    setManifest(e, m, base.key);
  }),
  mutate("a result naming another cycle", "cycle_mismatch", (e, base) => {
    const r = lines(find(e, "results.ndjson").data);
    r[0] = r[0]!.replace(/"cycle_id":"[^"]*"/, '"cycle_id":"c-elsewhere"');
    rewriteFile(e, "results.ndjson", Buffer.from(`${r.join("\n")}\n`), base.key);
  }),
  mutate("cycle.json naming another region", "environment_mismatch", (e, base) => {
    const c = JSON.parse(find(e, "cycle.json").data.toString()) as { environment: { region: string } };
    c.environment.region = "sa-east-1";
    rewriteFile(e, "cycle.json", Buffer.from(JSON.stringify(c)), base.key);
  }),
  mutate("a sample line that is not JSON", "malformed_content", (e, base) => {
    const s = lines(find(e, "samples.ndjson").data);
    s[5] = s[5]!.slice(0, -3);
    rewriteFile(e, "samples.ndjson", Buffer.from(`${s.join("\n")}\n`), base.key);
  }),
  mutate("a result pointing to a raw file that was removed", "dangling_reference", (e, base) => {
    const raw = e.find((x) => x.path.startsWith("raw/"))!;
    e.splice(e.indexOf(raw), 1);
    const m = manifestOf(e);
    m.files = m.files.filter((f) => f.path !== raw.path);
    setManifest(e, m, base.key);
  }),
  {
    name: "a valid bundle re-packed as a plain gzip file (no seal)",
    reason: "bad_seal",
    build: async (base, dir) => pack(dir, "bad_seal-unsealed.tar.gz", await unpack(base.path)),
  },
  {
    name: "a gzip header byte changed (the OS field: same content, different file)",
    reason: "bad_seal",
    build: async (base, dir) => {
      const bytes = await readFile(base.path);
      bytes[9] = 0x03;
      const out = join(dir, "bad_seal-os-byte.tar.gz");
      await writeFile(out, bytes);
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
