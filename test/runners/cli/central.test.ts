import { copyFile, mkdir, readdir, readFile, rename } from "node:fs/promises";
import { basename, join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { generateSigningKey } from "../../../workloads/bundle/keys.js";
import { generateAndWrite, makeKeys, type TestEnvironmentKeys } from "../../support/bundles.js";
import { HOSTILE_CASES } from "../../support/hostile-bundles.js";
import { tempDir } from "../../support/temp.js";

const CLI = join(import.meta.dirname, "..", "..", "..", "bin", "tiers.js");
const XSD = join(import.meta.dirname, "..", "..", "..", "workloads", "central", "reports", "junit.xsd");

let dir: Awaited<ReturnType<typeof tempDir>>;
let keys: TestEnvironmentKeys;
let good: string[];
let bad: string;
let watcher: ResultPromise | undefined;

const tiers = (...args: string[]) =>
  execa(process.execPath, [CLI, ...args], { reject: false, cwd: dir.path });

beforeAll(async () => {
  dir = await tempDir();
  keys = await makeKeys(dir.path);
  good = [];
  for (const [i, latencyFactor] of [1, 1.5].entries())
    good.push(
      (
        await generateAndWrite(
          { tier: "base", cycleId: `c-cli-${i}`, seed: i, latencyFactor, startMs: Date.UTC(2025, 0, 1 + i) },
          keys.key,
          join(dir.path, "in"),
        )
      ).path,
    );
  const corrupt = HOSTILE_CASES.find((c) => c.reason === "checksum_mismatch")!;
  const base = (
    await generateAndWrite({ tier: "base", cycleId: "c-cli-bad" }, keys.key, join(dir.path, "base"))
  ).path;
  bad = await corrupt.build(
    {
      path: base,
      stored: base,
      key: keys.key,
      strangerKey: await generateSigningKey(join(dir.path, "stranger.pem")),
    },
    join(dir.path, "in"),
  );
});
afterEach(() => {
  watcher?.kill("SIGKILL");
  watcher = undefined;
});
afterAll(() => dir?.remove());

describe("tiers central import", () => {
  it("imports the good bundles of a directory and refuses the bad one with exit code 7", async () => {
    const run = await tiers(
      "central",
      "import",
      join(dir.path, "in"),
      "--db",
      "central.db",
      "--keyring",
      keys.keyringPath,
    );
    expect(run.exitCode).toBe(7);
    const lines = run.stdout.split("\n");
    expect(lines.filter((l) => l.startsWith("imported  "))).toHaveLength(2);
    expect(lines).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^refused   ${bad.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}  \\(checksum_mismatch\\) samples\\.ndjson has sha256 `,
        ),
      ),
    );
    expect(run.stderr).toBe("error: 1 of 3 bundles refused; nothing of them was stored");
  });

  it("says so when the bundles are already there", async () => {
    const run = await tiers(
      "central",
      "import",
      ...good,
      "--db",
      "central.db",
      "--keyring",
      keys.keyringPath,
    );
    expect(run.exitCode).toBe(0);
    expect(run.stdout.split("\n").map((l) => l.split(" ")[0])).toStrictEqual(["unchanged", "unchanged"]);
    expect(run.stdout).toContain("already imported, nothing written");
  });

  it.each([
    [
      ["central", "import", "--db", "x.db"],
      2,
      "error: give bundle files or directories to import, or --watch DIR",
    ],
    [
      ["central", "import", "nowhere.tar.gz", "--keyring", "none"],
      3,
      "error: keyring none cannot be read (file not found)",
    ],
    [["central", "report", "--db", "missing.db"], 3, `error: no results database at ${"missing.db"}`],
    [
      ["central", "report", "--db", "central.db", "--format", "pdf"],
      2,
      "error: --format pdf: expected one of html, md, json, junit",
    ],
    [
      ["central", "report", "c-none", "--db", "central.db"],
      3,
      "error: no cycle c-none in the results database (latest: c-cli-1, c-cli-0)",
    ],
  ])("%j exits %d: %s", async (args, code, message) => {
    const run = await tiers(...args);
    expect(run.exitCode).toBe(code);
    expect(run.stderr.replace(join(dir.path, ""), "")).toContain(message.replace("missing.db", ""));
  });
});

describe("tiers central report and compare", () => {
  it("writes JUnit that validates, and Markdown to standard output", async () => {
    const junit = await tiers(
      "central",
      "report",
      "--db",
      "central.db",
      "--format",
      "junit",
      "--out",
      "out/junit.xml",
    );
    expect(junit.exitCode).toBe(0);
    expect(junit.stderr).toMatch(/^wrote out\/junit\.xml \(junit, \d+ bytes\)$/);
    const check = await execa("xmllint", ["--noout", "--schema", XSD, join(dir.path, "out", "junit.xml")]);
    expect(check.stderr).toContain("validates");
    const md = await tiers("central", "report", "c-cli-1", "--db", "central.db", "--format", "md");
    expect(md.exitCode).toBe(0);
    expect(md.stdout.split("\n")[0]).toBe("## ✅ test-tiers cycle `c-cli-1` — base / default: **passed**");
    const html = await tiers("central", "report", "--db", "central.db", "--out", "out/report.html");
    expect(html.exitCode).toBe(0);
    expect((await readFile(join(dir.path, "out", "report.html"), "utf8")).startsWith("<!DOCTYPE html>")).toBe(
      true,
    );
  });

  it("prints the comparison table", async () => {
    const run = await tiers("central", "compare", "c-cli-0", "c-cli-1", "--db", "central.db");
    expect(run.exitCode).toBe(0);
    const [summary, , header] = run.stdout.split("\n");
    expect(summary).toMatch(
      /^c-cli-0 → c-cli-1: [1-9]\d* regressed, 0 improved, 0 changed, \d+ unchanged, \d+ with too few samples$/,
    );
    expect(header).toMatch(
      /^verdict\s+env\s+phase\s+metric\s+baseline p50\s+candidate p50\s+change\s+p adj\.\s+Cliff's δ$/,
    );
    expect(run.stdout).toMatch(/^regressed\s+env-1\s+light\s+load\.p99_ms\s/m);
  });
});

describe("tiers central import --watch", () => {
  /** Everything the watcher printed so far, and a way to wait for a line (the watcher says what it did). */
  function follow(proc: ResultPromise) {
    let seen = "";
    const waiting: { pattern: RegExp; resolve: (line: string) => void }[] = [];
    const check = () => {
      for (const w of [...waiting]) {
        const line = seen.split("\n").find((l) => w.pattern.test(l));
        if (line !== undefined) {
          waiting.splice(waiting.indexOf(w), 1);
          w.resolve(line);
        }
      }
    };
    proc.stdout!.on("data", (chunk: Buffer) => {
      seen += chunk.toString();
      check();
    });
    const exited = proc.then((r) => {
      throw new Error(`watcher exited (${r.exitCode}) early: ${String(r.stdout)}${String(r.stderr)}`);
    });
    exited.catch(() => undefined);
    return (pattern: RegExp) =>
      Promise.race([
        new Promise<string>((resolve) => {
          waiting.push({ pattern, resolve });
          check();
        }),
        exited,
      ]);
  }

  it("imports what arrives, moves it to imported/ or rejected/ with a reason, and stops on SIGTERM", async () => {
    const inbox = join(dir.path, "inbox");
    await mkdir(inbox);
    watcher = execa(
      process.execPath,
      [
        CLI,
        "central",
        "import",
        "--watch",
        inbox,
        "--poll-ms",
        "200",
        "--db",
        "watch.db",
        "--keyring",
        keys.keyringPath,
      ],
      {
        reject: false,
        cwd: dir.path,
      },
    );
    const lineMatching = follow(watcher);
    await lineMatching(/^watching /);
    // Arrive as a writer should: copy under another name, then rename into place.
    for (const file of [good[0]!, bad]) {
      await copyFile(file, join(inbox, `.${basename(file)}.part`));
      await rename(join(inbox, `.${basename(file)}.part`), join(inbox, basename(file)));
    }
    const imported = await lineMatching(/^imported /);
    const refused = await lineMatching(/^refused /);
    expect(imported).toContain(`→ ${join(inbox, "imported", basename(good[0]!))}`);
    expect(refused).toContain("(checksum_mismatch)");
    expect(await readdir(join(inbox, "imported"))).toStrictEqual([basename(good[0]!)]);
    expect((await readdir(join(inbox, "rejected"))).sort()).toStrictEqual(
      [basename(bad), `${basename(bad)}.reason.txt`].sort(),
    );
    const reason = await readFile(join(inbox, "rejected", `${basename(bad)}.reason.txt`), "utf8");
    expect(reason).toMatch(
      /^reason: checksum_mismatch\nmessage: samples\.ndjson has sha256 [0-9a-f]{16}…, the manifest [0-9a-f]{16}…\nfile: .+\nrefused_at: \d{4}-\d\d-\d\dT/,
    );
    expect((await readdir(inbox)).filter((n) => n.endsWith(".tar.gz"))).toStrictEqual([]);
    watcher.kill("SIGTERM");
    const ended = await watcher;
    expect(ended.exitCode).toBe(130);
    expect(String(ended.stdout).trimEnd().split("\n").at(-1)).toBe("stopped watching");
  });
});
