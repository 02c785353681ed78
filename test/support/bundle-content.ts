/**
 * Taking a bundle apart and putting it back together with the bundle module's own tar codec,
 * signing and sealing functions, so tests can build bundles that differ from a valid one in one
 * chosen way: its archive, its manifest, or its decoded content (re-signed and resealed by the
 * environment's key, as a compromised environment would).
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { crc32, deflateRawSync } from "node:zlib";
import { scanTarGz } from "../../workloads/bundle/archive-reader.js";
import { writeTarGz, type ArchiveEntry } from "../../workloads/bundle/archive-writer.js";
import { signBytes, type SigningKey } from "../../workloads/bundle/keys.js";
import { TRACES_FILE } from "../../workloads/bundle/layout.js";
import type { BundleLimits } from "../../workloads/bundle/limits.js";
import { SEAL_HEADER_BYTES, SEAL_OFFSET, sealFor, sealHeaderTemplate } from "../../workloads/bundle/seal.js";
import { encodeTarHeader, END_OF_ARCHIVE, paddingFor, type TarType } from "../../workloads/bundle/tar.js";

export interface Entry {
  path: string;
  data: Buffer;
  type?: TarType;
  linkname?: string;
}

const BIG = 2 ** 40;
const NO_LIMITS: BundleLimits = {
  maxCompressedBytes: BIG,
  maxUncompressedBytes: BIG,
  maxEntryBytes: BIG,
  maxEntries: 1e6,
  maxManifestBytes: BIG,
  maxCycleBytes: BIG,
  maxRecordFileBytes: BIG,
  maxLineBytes: BIG,
};

/** Every entry of an archive, in order (no check beyond the tar format). */
export async function unpack(path: string): Promise<Entry[]> {
  const entries: Entry[] = [];
  await scanTarGz(path, NO_LIMITS, (header) => {
    const chunks: Buffer[] = [];
    return {
      write: (c) => chunks.push(Buffer.from(c)),
      end: () => entries.push({ path: header.path, data: Buffer.concat(chunks) }),
    };
  });
  return entries;
}

/** Packs entries into `dir/name` as the writer does (see `packTo`). */
export function pack(
  dir: string,
  name: string,
  entries: readonly Entry[],
  key?: SigningKey,
  level = 6,
): Promise<string> {
  return packTo(join(dir, name), entries, key, level);
}

/** Packs entries at `out` as the writer does; sealed with `key` (an attacker who holds the key), or plain gzip. */
export async function packTo(
  out: string,
  entries: readonly Entry[],
  key?: SigningKey,
  level = 6,
): Promise<string> {
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

/** An uncompressed archive of regular files, for cases that damage bytes the writer would not. */
export function tarOf(entries: readonly Entry[]): Buffer {
  return Buffer.concat([
    ...entries.flatMap((e) => [
      encodeTarHeader({ path: e.path, size: e.data.length, mtime: 0 }),
      e.data,
      Buffer.alloc(paddingFor(e.data.length)),
    ]),
    END_OF_ARCHIVE,
  ]);
}

/** Any bytes as a sealed gzip file, as the writer seals one: the seal holds, whatever the bytes are. */
export function sealedGzip(tar: Buffer, key: SigningKey): Buffer {
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(tar) >>> 0, 0);
  trailer.writeUInt32LE(tar.length % 2 ** 32, 4);
  const body = Buffer.concat([deflateRawSync(tar), trailer]);
  const header = sealHeaderTemplate();
  sealFor(key, createHash("sha256").update(body).digest()).copy(header, SEAL_OFFSET);
  return Buffer.concat([header.subarray(0, SEAL_HEADER_BYTES), body]);
}

export const find = (entries: Entry[], path: string): Entry => {
  const e = entries.find((x) => x.path === path);
  if (!e) throw new Error(`no ${path} in the base bundle`);
  return e;
};

/** A bundle's content, decoded: what a compromised environment would edit before signing. */
export interface Content {
  manifest: Record<string, unknown> & { files: { path: string; size: number; sha256: string }[] };
  /** cycle.json's text. */
  cycle: string;
  results: string[];
  events: string[];
  samples: string[];
  /** traces.ndjson's lines; undefined when the bundle has no such file (then it lists none). */
  traces?: string[];
  /** `raw/<name>` files and any other file to pack and list. */
  files: Map<string, Buffer>;
}

const lines = (b: Buffer): string[] => {
  const text = b.toString();
  return text === "" ? [] : text.replace(/\n$/, "").split("\n");
};

export function decode(entries: Entry[]): Content {
  const files = new Map<string, Buffer>();
  for (const e of entries)
    if (!["manifest.json", "manifest.sig", "cycle.json"].includes(e.path) && !e.path.endsWith(".ndjson"))
      files.set(e.path, e.data);
  const traces = entries.find((e) => e.path === TRACES_FILE);
  return {
    manifest: JSON.parse(find(entries, "manifest.json").data.toString()) as Content["manifest"],
    cycle: find(entries, "cycle.json").data.toString(),
    results: lines(find(entries, "results.ndjson").data),
    events: lines(find(entries, "events.ndjson").data),
    samples: lines(find(entries, "samples.ndjson").data),
    ...(traces ? { traces: lines(traces.data) } : {}),
    files,
  };
}

const ndjson = (ls: readonly string[]) => Buffer.from(ls.length === 0 ? "" : `${ls.join("\n")}\n`);

/**
 * Entries of a bundle with this content: every file listed with its real size and sha256, the
 * counts of lines (unless `keepCounts`; traces only when it has traces.ndjson), the manifest signed by `key`; manifest and signature
 * first, then the files in path order, as the writer packs them.
 */
export function encode(
  c: Content,
  key: SigningKey,
  options: { keepCounts?: boolean; manifestText?: (json: string) => string } = {},
): Entry[] {
  const data = new Map<string, Buffer>([
    ["cycle.json", Buffer.from(c.cycle)],
    ["results.ndjson", ndjson(c.results)],
    ["events.ndjson", ndjson(c.events)],
    ["samples.ndjson", ndjson(c.samples)],
    ...(c.traces ? ([[TRACES_FILE, ndjson(c.traces)]] as const) : []),
    ...c.files,
  ]);
  const paths = [...data.keys()].sort();
  const manifest = {
    ...c.manifest,
    files: paths.map((path) => ({
      path,
      size: data.get(path)!.length,
      sha256: createHash("sha256").update(data.get(path)!).digest("hex"),
    })),
    ...(options.keepCounts
      ? {}
      : {
          counts: {
            results: c.results.length,
            samples: c.samples.length,
            events: c.events.length,
            ...(c.traces ? { traces: c.traces.length } : {}),
          },
        }),
  };
  let text = `${JSON.stringify(manifest, null, 2)}\n`;
  if (options.manifestText) text = options.manifestText(text);
  const bytes = Buffer.from(text);
  return [
    { path: "manifest.json", data: bytes },
    { path: "manifest.sig", data: signBytes(key, bytes) },
    ...paths.map((path) => ({ path, data: data.get(path)! })),
  ];
}

/** Parses line `i`, lets `edit` change it, writes it back. */
export function editLine(ls: string[], i: number, edit: (value: Record<string, unknown>) => void): void {
  const value = JSON.parse(ls[i]!) as Record<string, unknown>;
  edit(value);
  ls[i] = JSON.stringify(value);
}

/** The same for cycle.json. */
export function editCycle(c: Content, edit: (cycle: Record<string, unknown>) => void): void {
  const value = JSON.parse(c.cycle) as Record<string, unknown>;
  edit(value);
  c.cycle = `${JSON.stringify(value, null, 2)}\n`;
}
