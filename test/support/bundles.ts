/** Writes generated cycles as real bundles with the one bundle writer (workloads/bundle/writer.ts). */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { canonicalJson, sha256Hex } from "../../tiers/plan/hash.js";
import { formatKeyringLine } from "../../workloads/bundle/keyring.js";
import { generateSigningKey, type SigningKey } from "../../workloads/bundle/keys.js";
import { BundleWriter, type WrittenBundle } from "../../workloads/bundle/writer.js";
import { generateCycle, seededUuid, type CycleKnobs, type GeneratedCycle } from "./cycle-data.js";
import { seededRandom } from "../../tiers/plan/random.js";

export interface WriteOptions {
  readonly bundleId?: string;
  readonly createdAt?: Date;
  readonly gzipLevel?: number;
  /** Write into this directory as `<env>-<cycle>.tar.gz` (default) or to this exact file. */
  readonly file?: string;
}

export async function writeCycleBundle(
  gen: GeneratedCycle,
  key: SigningKey,
  outDir: string,
  options: WriteOptions = {},
): Promise<WrittenBundle> {
  const tools = new Map<string, string | null>();
  for (const r of gen.results) tools.set(r.tool.name, r.tool.version);
  const writer = await BundleWriter.create({
    key,
    identity: {
      cycle_id: gen.summary.cycle_id,
      tier: gen.summary.tier,
      region: gen.env.region,
      region_role: gen.env.role,
      environment: gen.env.id,
      plan_hash: gen.plan.hash,
      config_hash: sha256Hex(canonicalJson(gen.plan.options)),
      tools: [...tools].sort(([a], [b]) => a.localeCompare(b)).map(([name, version]) => ({ name, version })),
    },
    // Deterministic per (cycle, environment), so rewriting the same cycle gives the same bundle.
    bundleId:
      options.bundleId ??
      seededUuid(seededRandom(parseInt(sha256Hex(`${gen.summary.cycle_id}/${gen.env.id}`).slice(0, 8), 16))),
    createdAt: options.createdAt ?? new Date(gen.summary.ended_at ?? gen.summary.started_at),
    ...(options.gzipLevel !== undefined ? { gzipLevel: options.gzipLevel } : {}),
  });
  try {
    for (const [name, content] of gen.raw) await writer.addRaw(name, content);
    for (const r of gen.results) await writer.addResult(r);
    for (const e of gen.events) await writer.addEvent(e);
    for (const s of gen.samples()) await writer.addSample(s);
    writer.setCycle(gen.summary);
    return options.file
      ? await writer.finish(options.file)
      : await writer.finish(outDir, { intoDirectory: true });
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

export interface TestEnvironmentKeys {
  readonly key: SigningKey;
  readonly keyringPath: string;
}

/** A fresh signing key and a keyring trusting it for every environment (`*`) or the given ones. */
export async function makeKeys(
  dir: string,
  environments: readonly string[] = ["*"],
): Promise<TestEnvironmentKeys> {
  const key = await generateSigningKey(join(dir, "env-key.pem"));
  const keyringPath = join(dir, "keyring");
  await writeFile(
    keyringPath,
    `# test keyring\n${environments.map((e) => formatKeyringLine(e, key.publicRaw, "test")).join("\n")}\n`,
  );
  return { key, keyringPath };
}

export async function generateAndWrite(
  knobs: CycleKnobs,
  key: SigningKey,
  outDir: string,
  options: WriteOptions = {},
): Promise<WrittenBundle & { gen: GeneratedCycle }> {
  const gen = generateCycle(knobs);
  return { ...(await writeCycleBundle(gen, key, outDir, options)), gen };
}
