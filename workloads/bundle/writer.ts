import { randomUUID } from "node:crypto";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { ExitCode, TiersError } from "../../tiers/errors.js";
import { CYCLE_ID, ENVIRONMENT_ID, type RegionRole } from "../../tiers/schema/names.js";
import { BUNDLE_SCHEMA_VERSION, BundleManifest } from "../shared/bundle-manifest.js";
import { CycleEvent, CycleSummary, Sample } from "../shared/cycle.js";
import { Result } from "../shared/result.js";
import { checkEntryPath } from "./archive-reader.js";
import { SpanRecord } from "../shared/trace.js";
import { checkCycleContent, resultMetricKeys, ResultChecks, SpanChecks } from "./content-check.js";
import { BundleError } from "./errors.js";
import { jsonValueProblem, stringProblem } from "./json-check.js";
import { DEFAULT_BUNDLE_LIMITS } from "./limits.js";
import { writeTarGz, type ArchiveEntry } from "./archive-writer.js";
import { BUNDLE_FILES, MANIFEST_FILE, SIGNATURE_FILE, TRACES_FILE, bundleFileName } from "./layout.js";
import { signBytes, type SigningKey } from "./keys.js";
import { StagedFile } from "./staged-file.js";

/** Who wrote the bundle and for which cycle: everything in the manifest that is not about files. */
export interface BundleIdentity {
  readonly cycle_id: string;
  readonly tier: string;
  readonly region: string;
  readonly region_role: RegionRole;
  readonly environment: string;
  readonly plan_hash: string;
  readonly config_hash: string;
  readonly tools: readonly { readonly name: string; readonly version: string | null }[];
}

export interface BundleWriterOptions {
  readonly key: SigningKey;
  readonly identity: BundleIdentity;
  /** Default: a random uuid. */
  readonly bundleId?: string;
  /** Default: now. Also the mtime of every tar entry, so equal input gives equal bytes. */
  readonly createdAt?: Date;
  /** Where the staging directory goes (default: the OS temp dir). */
  readonly stagingParent?: string;
  readonly gzipLevel?: number;
}

export interface WrittenBundle {
  readonly path: string;
  readonly manifest: BundleManifest;
  readonly bytes: number;
}

function misuse(message: string): TiersError {
  return new TiersError(ExitCode.Internal, `bundle writer: ${message}`);
}

/** A record the reader would refuse: its JSON problem, a line beyond the bound, a content rule. */
function checkRecord(what: string, value: unknown, body?: () => void): string {
  const problem = jsonValueProblem(value);
  if (problem) throw misuse(`${what}: ${problem}`);
  try {
    body?.();
  } catch (error) {
    if (error instanceof BundleError) throw misuse(`${what}: ${error.detail}`);
    throw error;
  }
  const line = JSON.stringify(value);
  if (Buffer.byteLength(line) > DEFAULT_BUNDLE_LIMITS.maxLineBytes)
    throw misuse(`${what} is longer than ${DEFAULT_BUNDLE_LIMITS.maxLineBytes} bytes as one line`);
  return line;
}

/**
 * Writes a Bundle v1 without holding its content in memory: results, samples and events stream to
 * staging files whose sizes and sha256 are computed as they are written; `finish` writes the
 * manifest, signs it, and packs everything into `<env>-<cycle>.tar.gz` in a fixed entry order.
 * Every record is checked against its shared schema, so the writer cannot produce a bundle the
 * reader refuses.
 */
export class BundleWriter {
  private readonly raw = new Map<string, StagedFile>();
  private cycle: CycleSummary | undefined;
  private readonly rawRefs: { resultId: string; path: string }[] = [];
  private state: "open" | "finished" | "aborted" = "open";
  private readonly resultChecks: ResultChecks;
  private readonly written: Result[] = [];
  /** `phase\0series` of samples whose series could collide with a result metric's name. */
  private readonly colonSeries = new Set<string>();
  /** traces.ndjson, made on the first span: a bundle without spans does not list it. */
  private traces: StagedFile | undefined;
  private readonly spanChecks: SpanChecks;

  private constructor(
    private readonly options: BundleWriterOptions,
    private readonly staging: string,
    private readonly results: StagedFile,
    private readonly samples: StagedFile,
    private readonly events: StagedFile,
  ) {
    this.resultChecks = new ResultChecks({
      cycle_id: options.identity.cycle_id,
      environment: options.identity.environment,
    });
    this.spanChecks = new SpanChecks({ cycle_id: options.identity.cycle_id });
  }

  static async create(options: BundleWriterOptions): Promise<BundleWriter> {
    const { cycle_id, environment } = options.identity;
    if (!CYCLE_ID.test(cycle_id)) throw misuse(`cycle id ${JSON.stringify(cycle_id)} is not a cycle id`);
    if (!ENVIRONMENT_ID.test(environment))
      throw misuse(`environment ${JSON.stringify(environment)} is not an environment id`);
    const parent = options.stagingParent ?? tmpdir();
    await mkdir(parent, { recursive: true });
    const staging = await mkdtemp(join(parent, "tiers-bundle-"));
    await mkdir(join(staging, "raw"), { mode: 0o700 });
    const [results, samples, events] = await Promise.all(
      [BUNDLE_FILES.results, BUNDLE_FILES.samples, BUNDLE_FILES.events].map((f) =>
        StagedFile.create(join(staging, f)),
      ),
    );
    return new BundleWriter(options, staging, results!, samples!, events!);
  }

  get bundleFileName(): string {
    return bundleFileName(this.options.identity.environment, this.options.identity.cycle_id);
  }

  private ensureOpen(): void {
    if (this.state !== "open") throw misuse(`the bundle is already ${this.state}`);
  }

  private checkOwnership(what: string, cycleId: string, environment: string): void {
    const id = this.options.identity;
    if (cycleId !== id.cycle_id || environment !== id.environment)
      throw misuse(
        `${what} belongs to cycle ${cycleId} / ${environment}, the bundle to ${id.cycle_id} / ${id.environment}`,
      );
  }

  async addResult(result: Result): Promise<void> {
    this.ensureOpen();
    const r = Result.parse(result);
    this.checkOwnership(`result ${r.result_id}`, r.cycle_id, r.environment);
    const line = checkRecord(`result ${r.result_id}`, r, () =>
      this.resultChecks.check(r, `result ${r.result_id}`),
    );
    for (const path of [r.raw.stdout, r.raw.stderr, ...(r.raw.files ?? [])])
      if (path !== undefined) this.rawRefs.push({ resultId: r.result_id, path });
    this.written.push(r);
    await this.results.writeLine(line);
  }

  async addSample(sample: Sample): Promise<void> {
    this.ensureOpen();
    const s = Sample.parse(sample);
    const problem = stringProblem(s.series);
    if (problem) throw misuse(`sample series ${JSON.stringify(s.series)} ${problem}`);
    if (s.phase !== null && s.series.includes(":")) this.colonSeries.add(`${s.phase}\u0000${s.series}`);
    await this.samples.writeLine(JSON.stringify(s));
  }

  async addEvent(event: CycleEvent): Promise<void> {
    this.ensureOpen();
    const e = CycleEvent.parse(event);
    await this.events.writeLine(checkRecord(`event ${e.kind}`, e));
  }

  /** One finished span of the cycle (traces.ndjson), checked as the reader will check it. */
  async addSpan(span: SpanRecord): Promise<void> {
    this.ensureOpen();
    const s = SpanRecord.parse(span);
    const line = checkRecord(`span ${s.span_id}`, s, () => this.spanChecks.check(s, `span ${s.span_id}`));
    this.traces ??= await StagedFile.create(join(this.staging, TRACES_FILE));
    await this.traces.writeLine(line);
  }

  /** Stores a tool's untouched output as `raw/<name>` and returns that bundle path. */
  async addRaw(name: string, content: string | Uint8Array): Promise<string> {
    this.ensureOpen();
    const path = `raw/${name}`;
    checkEntryPath(path);
    if (name.includes("/")) throw misuse(`raw file names are flat, got ${JSON.stringify(name)}`);
    if (this.raw.has(path)) throw misuse(`${path} was already added`);
    const file = await StagedFile.create(join(this.staging, path));
    this.raw.set(path, file);
    await file.writeBytes(typeof content === "string" ? Buffer.from(content, "utf8") : content);
    return path;
  }

  setCycle(summary: CycleSummary): void {
    this.ensureOpen();
    const s = CycleSummary.parse(summary);
    this.checkOwnership("the cycle summary", s.cycle_id, s.environment.id);
    checkRecord("the cycle summary", s, () => checkCycleContent(s, "cycle.json"));
    this.cycle = s;
  }

  /** Writes the bundle to `outPath` (a directory gets `<env>-<cycle>.tar.gz`), atomically. */
  async finish(outPath: string, { intoDirectory = false } = {}): Promise<WrittenBundle> {
    this.ensureOpen();
    if (!this.cycle) throw misuse("setCycle() was not called");
    for (const ref of this.rawRefs)
      if (!this.raw.has(ref.path))
        throw misuse(`result ${ref.resultId} points to ${ref.path}, which was not added`);
    const metricKeys = resultMetricKeys(this.written);
    for (const key of this.colonSeries)
      if (metricKeys.has(key))
        throw misuse(`sample series ${JSON.stringify(key.split("\u0000")[1])} collides with a result metric`);
    const id = this.options.identity;
    const createdAt = this.options.createdAt ?? new Date();
    const mtime = Math.floor(createdAt.getTime() / 1000);
    const cycleText = Buffer.from(`${JSON.stringify(this.cycle, null, 2)}\n`, "utf8");
    const cycleFile = await StagedFile.create(join(this.staging, BUNDLE_FILES.cycle));
    await cycleFile.writeBytes(cycleText);
    const staged = new Map<string, StagedFile>([
      [BUNDLE_FILES.cycle, cycleFile],
      [BUNDLE_FILES.results, this.results],
      [BUNDLE_FILES.samples, this.samples],
      [BUNDLE_FILES.events, this.events],
      ...(this.traces ? ([[TRACES_FILE, this.traces]] as const) : []),
      ...this.raw,
    ]);
    const files: BundleManifest["files"] = [];
    for (const path of [...staged.keys()].sort()) files.push({ path, ...(await staged.get(path)!.close()) });
    const manifest = BundleManifest.parse({
      bundle_schema: BUNDLE_SCHEMA_VERSION,
      bundle_id: this.options.bundleId ?? randomUUID(),
      cycle_id: id.cycle_id,
      tier: id.tier,
      region: id.region,
      region_role: id.region_role,
      environment: id.environment,
      created_at: createdAt.toISOString(),
      tools: id.tools.map((t) => ({ name: t.name, version: t.version })),
      plan_hash: id.plan_hash,
      config_hash: id.config_hash,
      signing: { algorithm: "ed25519", key_id: this.options.key.keyId },
      counts: {
        results: this.results.lines,
        samples: this.samples.lines,
        events: this.events.lines,
        ...(this.traces ? { traces: this.traces.lines } : {}),
      },
      files,
    } satisfies BundleManifest);
    const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, "utf8");
    const signature = signBytes(this.options.key, manifestBytes);
    const entries: ArchiveEntry[] = [
      { header: { path: MANIFEST_FILE, size: manifestBytes.length, mtime }, data: manifestBytes },
      { header: { path: SIGNATURE_FILE, size: signature.length, mtime }, data: signature },
      ...files.map((f) => ({
        header: { path: f.path, size: f.size, mtime },
        file: join(this.staging, f.path),
      })),
    ];
    const target = intoDirectory ? join(outPath, this.bundleFileName) : outPath;
    await mkdir(dirname(target), { recursive: true });
    try {
      const bytes = await writeTarGz(target, entries, this.options.gzipLevel, this.options.key);
      this.state = "finished";
      return { path: target, manifest, bytes };
    } finally {
      await rm(this.staging, { recursive: true, force: true });
      if (this.state !== "finished") this.state = "aborted";
    }
  }

  /** Drops everything written so far. */
  async abort(): Promise<void> {
    if (this.state !== "open") return;
    this.state = "aborted";
    await Promise.all(
      [
        this.results,
        this.samples,
        this.events,
        ...(this.traces ? [this.traces] : []),
        ...this.raw.values(),
      ].map((f) => f.discard()),
    );
    await rm(this.staging, { recursive: true, force: true });
  }
}
