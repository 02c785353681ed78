import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { z } from "zod";
import { BUNDLE_SCHEMA_VERSION, BundleManifest } from "../shared/bundle-manifest.js";
import { CycleEvent, CycleSummary, Sample } from "../shared/cycle.js";
import { Result } from "../shared/result.js";
import { checkSeal } from "./seal.js";
import { BundleError } from "./errors.js";
import { extractBundle, type Extraction } from "./extract.js";
import type { Keyring } from "./keyring.js";
import { verifyBytes } from "./keys.js";
import { BUNDLE_FILES, MANIFEST_FILE, REQUIRED_FILES, SIGNATURE_FILE } from "./layout.js";
import { resolveLimits, type BundleLimits } from "./limits.js";
import { parseLine, parseValue, readLineBatches } from "./ndjson.js";
import { isPlainSample } from "./sample-check.js";

export interface OpenBundleOptions {
  readonly keyring: Keyring;
  readonly limits?: Partial<BundleLimits>;
  /** Where the private extraction directory is made (default: the OS temp dir). */
  readonly workParent?: string;
}

/**
 * A bundle whose archive, signature and checksums hold, extracted to a private directory.
 * `readResults()`, `readEvents()` and `sampleBatches()` read their files, checking every line
 * (schema, cycle, environment, raw references) and, at the end, the manifest's count; any failure
 * is a `BundleError`. `close()` removes the extraction.
 */
export class OpenedBundle {
  constructor(
    readonly path: string,
    readonly manifest: BundleManifest,
    readonly manifestBytes: Buffer,
    readonly cycle: CycleSummary,
    readonly archive: { readonly sha256: string; readonly bytes: number },
    private readonly dir: string,
  ) {}

  /** Parsed, checked lines of one file in batches; the count is checked after the last batch. */
  private async *batches<T>(
    file: string,
    parse: (line: number, text: string) => T,
    expected: number,
    check?: (value: T, where: string) => void,
  ): AsyncGenerator<T[]> {
    let count = 0;
    for await (const { first, lines } of readLineBatches(join(this.dir, file), file)) {
      const values = new Array<T>(lines.length);
      for (let i = 0; i < lines.length; i++) {
        const value = parse(first + i, lines[i]!);
        check?.(value, `${file}:${first + i}`);
        values[i] = value;
      }
      count += values.length;
      yield values;
    }
    if (count !== expected)
      throw new BundleError("count_mismatch", `${file} has ${count} lines, the manifest counts ${expected}`);
  }

  private async all<T>(batches: AsyncGenerator<T[]>): Promise<T[]> {
    const out: T[] = [];
    for await (const batch of batches) out.push(...batch);
    return out;
  }

  /** Every result, each checked for cycle, environment, unique id and raw references. */
  readResults(): Promise<Result[]> {
    const m = this.manifest;
    const listed = new Set(m.files.map((f) => f.path));
    const seen = new Map<string, string>();
    return this.all(
      this.batches(
        BUNDLE_FILES.results,
        schemaParser(Result, BUNDLE_FILES.results),
        m.counts.results,
        (r, where) => {
          if (r.cycle_id !== m.cycle_id)
            throw new BundleError(
              "cycle_mismatch",
              `${where}: result names cycle ${r.cycle_id}, the manifest ${m.cycle_id}`,
            );
          if (r.environment !== m.environment)
            throw new BundleError(
              "environment_mismatch",
              `${where}: result names environment ${r.environment}, the manifest ${m.environment}`,
            );
          const first = seen.get(r.result_id);
          if (first !== undefined)
            throw new BundleError(
              "malformed_content",
              `${where}: result_id ${r.result_id} already appears at ${first}`,
            );
          seen.set(r.result_id, where);
          for (const ref of [r.raw.stdout, r.raw.stderr, ...(r.raw.files ?? [])])
            if (ref !== undefined && !listed.has(ref))
              throw new BundleError(
                "dangling_reference",
                `${where}: result ${r.result_id} points to ${ref}, which the bundle lacks`,
              );
        },
      ),
    );
  }

  readEvents(): Promise<CycleEvent[]> {
    return this.all(
      this.batches(
        BUNDLE_FILES.events,
        schemaParser(CycleEvent, BUNDLE_FILES.events),
        this.manifest.counts.events,
      ),
    );
  }

  /** Samples in file order, in batches of about a megabyte of text. */
  sampleBatches(): AsyncGenerator<Sample[]> {
    const file = BUNDLE_FILES.samples;
    const slow = schemaParser(Sample, file);
    return this.batches(
      file,
      (line, text) => {
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch {
          return slow(line, text);
        }
        return isPlainSample(value) ? value : slow(line, text);
      },
      this.manifest.counts.samples,
    );
  }

  /** A raw file's content (`raw/<name>` as listed in the manifest). */
  async readRaw(path: string): Promise<Buffer> {
    if (!this.manifest.files.some((f) => f.path === path)) throw new Error(`${path} is not in the bundle`);
    return readFile(join(this.dir, path));
  }

  async close(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

function schemaParser<S extends z.ZodType>(schema: S, file: string) {
  return (line: number, text: string): z.infer<S> => parseLine(schema, file, line, text);
}

function parseManifest(bytes: Buffer): BundleManifest {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (error) {
    throw new BundleError("malformed_manifest", `manifest.json is not JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const schema = (json as { bundle_schema?: unknown } | null)?.bundle_schema;
  if (typeof schema === "number" && schema !== BUNDLE_SCHEMA_VERSION)
    throw new BundleError(
      "unsupported_schema",
      `bundle schema ${schema} is not one this importer reads (it reads ${BUNDLE_SCHEMA_VERSION})`,
    );
  const parsed = BundleManifest.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new BundleError("malformed_manifest", `manifest.json: ${issues.join("; ")}`);
  }
  const paths = parsed.data.files.map((f) => f.path);
  const dup = paths.find((p, i) => paths.indexOf(p) !== i);
  if (dup !== undefined) throw new BundleError("malformed_manifest", `manifest.json lists ${dup} twice`);
  if (paths.includes(MANIFEST_FILE) || paths.includes(SIGNATURE_FILE))
    throw new BundleError("malformed_manifest", "manifest.json lists itself or its signature as a file");
  return parsed.data;
}

function checkSignature(manifest: BundleManifest, bytes: Buffer, signature: Buffer, keyring: Keyring): void {
  const key = keyring.keys.get(manifest.signing.key_id);
  if (!key)
    throw new BundleError(
      "unknown_key",
      `signed with key ${manifest.signing.key_id.slice(0, 16)}…, which is not in keyring ${keyring.source}`,
    );
  if (!key.environments.has("*") && !key.environments.has(manifest.environment))
    throw new BundleError(
      "untrusted_environment",
      `key ${key.keyId.slice(0, 16)}… is trusted for ${[...key.environments].join(", ")}, not for ${manifest.environment}`,
    );
  if (!verifyBytes(key.publicKey, bytes, signature))
    throw new BundleError(
      "bad_signature",
      `manifest.sig is not a valid signature of manifest.json by key ${key.keyId.slice(0, 16)}…`,
    );
}

function checkFiles(manifest: BundleManifest, extraction: Extraction): void {
  const listed = new Map(manifest.files.map((f) => [f.path, f]));
  for (const path of extraction.files.keys())
    if (!listed.has(path))
      throw new BundleError("unlisted_file", `${path} is in the archive but not in the manifest`);
  for (const path of REQUIRED_FILES)
    if (!listed.has(path))
      throw new BundleError("missing_file", `required file ${path} is not in the manifest`);
  for (const f of manifest.files) {
    const got = extraction.files.get(f.path);
    if (!got)
      throw new BundleError("missing_file", `${f.path} is listed in the manifest but not in the archive`);
    if (got.size !== f.size)
      throw new BundleError("size_mismatch", `${f.path} is ${got.size} bytes, the manifest says ${f.size}`);
    if (got.sha256 !== f.sha256)
      throw new BundleError(
        "checksum_mismatch",
        `${f.path} has sha256 ${got.sha256.slice(0, 16)}…, the manifest ${f.sha256.slice(0, 16)}…`,
      );
  }
}

function checkCycle(manifest: BundleManifest, cycle: CycleSummary): void {
  const where = BUNDLE_FILES.cycle;
  const pairs: [string, string, string][] = [
    ["cycle_id", cycle.cycle_id, manifest.cycle_id],
    ["tier", cycle.tier, manifest.tier],
    ["plan_hash", cycle.plan_hash, manifest.plan_hash],
  ];
  for (const [field, got, want] of pairs)
    if (got !== want)
      throw new BundleError("cycle_mismatch", `${where} ${field} is ${got}, the manifest says ${want}`);
  const env: [string, string, string][] = [
    ["environment.id", cycle.environment.id, manifest.environment],
    ["environment.region", cycle.environment.region, manifest.region],
    ["environment.role", cycle.environment.role, manifest.region_role],
  ];
  for (const [field, got, want] of env)
    if (got !== want)
      throw new BundleError("environment_mismatch", `${where} ${field} is ${got}, the manifest says ${want}`);
}

/**
 * Opens a bundle: streams and extracts the archive under hard limits, then checks, in this order,
 * manifest presence, schema version, manifest schema, key and signature, the file list (unlisted,
 * missing, size, sha256), and cycle.json against the manifest. Each failure is a `BundleError`
 * with its reason, and the extraction is removed.
 */
export async function openBundle(path: string, options: OpenBundleOptions): Promise<OpenedBundle> {
  const limits = resolveLimits(options.limits);
  const dir = await mkdtemp(join(options.workParent ?? tmpdir(), "tiers-import-"));
  try {
    const extraction = await extractBundle(path, dir, limits);
    if (!extraction.manifestBytes)
      throw new BundleError("missing_manifest", `${MANIFEST_FILE} is not in the archive`);
    if (!extraction.signature)
      throw new BundleError("missing_signature", `${SIGNATURE_FILE} is not in the archive`);
    const manifest = parseManifest(extraction.manifestBytes);
    checkSignature(manifest, extraction.manifestBytes, extraction.signature, options.keyring);
    checkFiles(manifest, extraction);
    let cycleJson: unknown;
    try {
      const bytes = await readFile(join(dir, BUNDLE_FILES.cycle));
      cycleJson = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    } catch (error) {
      throw new BundleError(
        "malformed_content",
        `${BUNDLE_FILES.cycle}: not JSON (${(error as Error).message})`,
      );
    }
    const cycle = parseValue(CycleSummary, BUNDLE_FILES.cycle, cycleJson);
    checkCycle(manifest, cycle);
    // Last: what the bundle says holds; now check that no byte of how it is stored changed either.
    checkSeal(
      extraction.seal.header,
      extraction.seal.bodySha256,
      manifest.signing.key_id,
      options.keyring.keys.get(manifest.signing.key_id)!.publicKey,
    );
    return new OpenedBundle(
      path,
      manifest,
      extraction.manifestBytes,
      cycle,
      { sha256: extraction.archiveSha256, bytes: extraction.compressedBytes },
      dir,
    );
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Opens a bundle and reads every line of it; resolves with the manifest if all of it holds. */
export async function verifyBundle(path: string, options: OpenBundleOptions): Promise<BundleManifest> {
  const bundle = await openBundle(path, options);
  try {
    await bundle.readResults();
    await bundle.readEvents();
    for await (const _ of bundle.sampleBatches());
    return bundle.manifest;
  } finally {
    await bundle.close();
  }
}
