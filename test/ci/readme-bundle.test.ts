/**
 * The README lists every bundle refusal and every bound as the code has them: the bundle limits,
 * `--poll-ms`, the orchestrator API's body limit, drain bound and timeouts, and the size of the
 * hostile-bundle suite.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BUNDLE_REFUSALS } from "../../workloads/bundle/errors.js";
import { DEFAULT_BUNDLE_LIMITS, FORMAT_BOUNDS, type BundleLimits } from "../../workloads/bundle/limits.js";
import { pollMsFrom } from "../../runners/cli/commands/central-import.js";
import {
  DEFAULT_API_TIMEOUTS,
  DEFAULT_MAX_BODY,
  DRAIN_LIMIT_FACTOR,
} from "../../workloads/orchestrator/api/server.js";
import { REPO_ROOT } from "../helpers/cli.js";
import { HOSTILE_CASES } from "../support/hostile-bundles.js";
import { CONTENT_CASES } from "../support/hostile-content.js";

const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
/** The README as running text: a sentence may wrap anywhere. */
const prose = readme.replace(/\s+/g, " ");
const seconds = (ms: number) => `${ms / 1000} s`;
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

  it("counts the hostile-bundle suite and its signed-content cases as the suite has them", () => {
    expect(prose).toContain(
      `${HOSTILE_CASES.length} corrupt or hostile bundles (every refusal reason; ${CONTENT_CASES.length} of them validly signed and sealed content`,
    );
  });

  it("states the --poll-ms range that pollMsFrom enforces", () => {
    const m = /`--poll-ms N` [^.]*? an integer from (\d+) to (\d+) ms/.exec(prose);
    expect(m).not.toBeNull();
    const [min, max] = [Number(m![1]), Number(m![2])];
    expect([pollMsFrom(String(min)), pollMsFrom(String(max))]).toStrictEqual([min, max]);
    expect(() => pollMsFrom(String(min - 1))).toThrow("not a poll interval");
    expect(() => pollMsFrom(String(max + 1))).toThrow("not a poll interval");
  });

  it("states the orchestrator API's body limit, drain bound and timeouts as the server has them", () => {
    const t = DEFAULT_API_TIMEOUTS;
    expect(prose).toContain(`a body over ${size(DEFAULT_MAX_BODY)} gets 413`);
    expect(prose).toContain(
      `read and discarded up to ${size(DRAIN_LIMIT_FACTOR * DEFAULT_MAX_BODY)}, then the connection is closed`,
    );
    expect(prose).toContain(
      `headers within ${seconds(t.headersMs)} and its request within ${seconds(t.requestMs)}`,
    );
    expect(prose).toContain(
      `a kept-alive connection with no next request closes after ${seconds(t.keepAliveMs)}`,
    );
    expect(prose).toContain(`(a stalled download) after ${seconds(t.idleMs)}`);
  });
});
