import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import type { z } from "zod";
import type { BundleManifest } from "../shared/bundle-manifest.js";
import { CycleEvent, CycleSummary, Sample } from "../shared/cycle.js";
import { Result } from "../shared/result.js";
import { SpanRecord } from "../shared/trace.js";
import { checkCycleContent, ResultChecks, sampleChecker, SpanChecks } from "./content-check.js";
import { BundleError } from "./errors.js";
import { extractBundle } from "./extract.js";
import { countKeysInText, jsonTextProblem, stringProblem } from "./json-check.js";
import type { Keyring, TrustedKey } from "./keyring.js";
import { BUNDLE_FILES, TRACES_FILE } from "./layout.js";
import { resolveLimits, type BundleLimits } from "./limits.js";
import { trustedKeyFor, verifyManifest } from "./manifest-check.js";
import { parseJsonLine, parseLine, parseValue, readLineBatches } from "./ndjson.js";
import { isPlainSample } from "./sample-check.js";
import { checkSeal, checkSealHeader } from "./seal.js";
import { makeStagingDir } from "./staging.js";

export interface OpenBundleOptions {
  readonly keyring: Keyring;
  readonly limits?: Partial<BundleLimits>;
  /** Where the private extraction directory is made (default: the OS temp dir); stale ones there are swept. */
  readonly workParent?: string;
  /** Stops reading (an `AbortError`), the extraction removed. */
  readonly signal?: AbortSignal;
}

/**
 * A bundle whose archive, signature, seal, checksums and cycle.json hold, extracted to a private
 * directory. `readResults()`, `readEvents()` and `sampleBatches()` read their files, checking every
 * line (schema, the JSON rules of `json-check.ts`, the content rules of `content-check.ts`) and, at
 * the end, the manifest's count; any failure is a `BundleError`. `close()` removes the extraction.
 */
export class OpenedBundle {
  private results: Result[] | undefined;

  constructor(
    readonly path: string,
    readonly manifest: BundleManifest,
    readonly manifestBytes: Buffer,
    readonly cycle: CycleSummary,
    readonly archive: { readonly sha256: string; readonly bytes: number },
    private readonly dir: string,
    private readonly limits: BundleLimits,
    private readonly signal: AbortSignal | undefined,
  ) {}

  /** Parsed, checked lines of one file in batches; the count is checked after the last batch. */
  private async *batches<T>(
    file: string,
    parse: (line: number, text: string) => T,
    expected: number,
    check?: (value: T, where: string) => void,
  ): AsyncGenerator<T[]> {
    let count = 0;
    for await (const { first, lines } of readLineBatches(
      join(this.dir, file),
      file,
      this.limits.maxLineBytes,
      this.signal,
    )) {
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

  /** Every result, each checked for cycle, environment, unique id and test, times and raw references. */
  async readResults(): Promise<Result[]> {
    const checks = ResultChecks.forManifest(this.manifest);
    this.results = await this.all(
      this.batches(
        BUNDLE_FILES.results,
        schemaParser(Result, BUNDLE_FILES.results),
        this.manifest.counts.results,
        (r, where) => checks.check(r, where),
      ),
    );
    return this.results;
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

  /** The cycle's spans (`traces.ndjson`); none for a bundle without that file (older, or OTLP-exporting). */
  async readTraces(): Promise<SpanRecord[]> {
    if (!this.manifest.files.some((f) => f.path === TRACES_FILE)) return [];
    const checks = new SpanChecks(this.manifest);
    return this.all(
      this.batches(
        TRACES_FILE,
        schemaParser(SpanRecord, TRACES_FILE),
        this.manifest.counts.traces ?? 0,
        (s, where) => checks.check(s, where),
      ),
    );
  }

  /**
   * Samples in file order, in batches of about a megabyte of text. Each line is checked in place
   * (`isPlainSample`, one key count, the series' characters); a sample series may not collide
   * with a result metric, so `readResults()` comes first.
   */
  sampleBatches(): AsyncGenerator<Sample[]> {
    if (!this.results) throw new Error("readResults() before sampleBatches()");
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
        return isPlainSample(value) &&
          countKeysInText(text) === 4 &&
          stringProblem(value.series) === undefined
          ? value
          : slow(line, text);
      },
      this.manifest.counts.samples,
      sampleChecker(this.results),
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
  checkCycleContent(cycle, where);
}

async function readCycle(dir: string, manifest: BundleManifest): Promise<CycleSummary> {
  const where = BUNDLE_FILES.cycle;
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(await readFile(join(dir, where)));
  } catch (error) {
    throw new BundleError("malformed_content", `${where}: not UTF-8`, { cause: error });
  }
  const json = parseJsonLine(where, text.trim());
  const problem = jsonTextProblem(text, json);
  if (problem) throw new BundleError("malformed_content", `${where}: ${problem}`);
  const cycle = parseValue(CycleSummary, where, json);
  checkCycle(manifest, cycle);
  return cycle;
}

/**
 * Opens a bundle, in the order that makes a hostile file cheap to refuse:
 * 1. the file's first 112 bytes: a sealed gzip header whose key is in the keyring — before
 *    anything is inflated;
 * 2. manifest.json and manifest.sig, the first two entries, in memory: the key, the environment it
 *    is trusted for and the signature, then the manifest's schema and what it lists — before any
 *    other entry is inflated;
 * 3. every other entry as it streams: listed, of the listed size, within its bound, its sha256;
 * 4. the seal's signature over the compressed bytes, as soon as the last byte is read;
 * 5. cycle.json against the manifest and its own content.
 * Each failure is a `BundleError` with its reason, and the extraction is removed.
 */
export async function openBundle(path: string, options: OpenBundleOptions): Promise<OpenedBundle> {
  const limits = resolveLimits(options.limits);
  const dir = await makeStagingDir(options.workParent);
  try {
    let sealedBy = "";
    let sealKey: TrustedKey | undefined;
    let manifest: BundleManifest | undefined;
    const recordFiles = new Set<string>([BUNDLE_FILES.results, BUNDLE_FILES.events, TRACES_FILE]);
    const extraction = await extractBundle(path, dir, limits, {
      onSealHeader: (header) => {
        sealedBy = checkSealHeader(header);
        sealKey = trustedKeyFor(options.keyring, sealedBy, "the archive is sealed by");
      },
      onManifest: (bytes, signature) => {
        const verified = verifyManifest(bytes, signature, options.keyring, sealedBy, limits);
        manifest = verified.manifest;
        return verified.listed;
      },
      maxSizeOf: (file) =>
        file === BUNDLE_FILES.cycle
          ? limits.maxCycleBytes
          : recordFiles.has(file)
            ? limits.maxRecordFileBytes
            : limits.maxEntryBytes,
      onScanned: (scan) =>
        checkSeal(scan.seal.header, scan.seal.bodySha256, manifest!.signing.key_id, sealKey!.publicKey),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const cycle = await readCycle(dir, manifest!);
    return new OpenedBundle(
      path,
      manifest!,
      extraction.manifestBytes,
      cycle,
      { sha256: extraction.archiveSha256, bytes: extraction.compressedBytes },
      dir,
      limits,
      options.signal,
    );
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Opens a bundle and reads every line of it through the same checks the importer applies;
 * resolves with the manifest if all of it holds (`orchestrator verify-bundle`).
 */
export async function verifyBundle(path: string, options: OpenBundleOptions): Promise<BundleManifest> {
  const bundle = await openBundle(path, options);
  try {
    await bundle.readResults();
    await bundle.readEvents();
    await bundle.readTraces();
    for await (const _ of bundle.sampleBatches());
    return bundle.manifest;
  } finally {
    await bundle.close();
  }
}
