/** The README lists every bundle refusal and every bound as the code has them. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BUNDLE_REFUSALS } from "../../workloads/bundle/errors.js";
import { DEFAULT_BUNDLE_LIMITS, FORMAT_BOUNDS, type BundleLimits } from "../../workloads/bundle/limits.js";
import { REPO_ROOT } from "../helpers/cli.js";

const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
const size = (n: number) =>
  n % 2 ** 30 === 0
    ? `${n / 2 ** 30} GiB`
    : n % 2 ** 20 === 0
      ? `${n / 2 ** 20} MiB`
      : n.toLocaleString("en");

/** Each bound's row in the README's bounds table: its first cell starts so, its value reads so. */
const ROWS: Record<keyof BundleLimits, string> = {
  maxCompressedBytes: "| the `.tar.gz` file |",
  maxUncompressedBytes: "| everything it inflates to",
  maxEntryBytes: "| one entry |",
  maxEntries: "| entries in the archive",
  maxManifestBytes: "| `manifest.json`",
  maxCycleBytes: "| `cycle.json`",
  maxRecordFileBytes: "| `results.ndjson`, `events.ndjson`",
  maxLineBytes: "| one ndjson line",
};

describe("README", () => {
  it.each(Object.entries(BUNDLE_REFUSALS))("lists the refusal %s with its meaning", (reason, meaning) => {
    expect(readme).toContain(`| \`${reason}\` | ${meaning} |`);
  });

  it.each(Object.entries(ROWS))("states the bound %s as the code has it", (key, start) => {
    const row = readme.split("\n").find((l) => l.startsWith(start));
    expect(row).toBeDefined();
    expect(row!.split(" | ")[1]).toBe(size(DEFAULT_BUNDLE_LIMITS[key as keyof BundleLimits]));
  });

  it("states the format's own bounds", () => {
    expect(readme).toContain(`| an entry path (ustar prefix + name) | ${FORMAT_BOUNDS.maxPathBytes} bytes |`);
    expect(readme).toContain(`| nesting of JSON objects and arrays | ${FORMAT_BOUNDS.maxJsonDepth} levels |`);
    expect(FORMAT_BOUNDS.maxInt32).toBe(2 ** 31 - 1);
    expect(readme).toContain("| −2³¹ … 2³¹ − 1 |");
  });
});
