/**
 * Reports of a cycle whose tool-supplied strings (test names, reasons, metric names, gate rules,
 * sample series) hold what breaks documents and terminals: markup, Markdown table syntax,
 * newlines, escape sequences, C1 and bidi controls, XML-illegal code points. JUnit must stay
 * well-formed (and valid), the HTML well-formed, the Markdown table one row per line with its
 * columns, the JSON the same JSON — and no control character anywhere unescaped.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadKeyring } from "../../../../workloads/bundle/keyring.js";
import { buildCycleReport } from "../../../../workloads/central/analysis/cycle-report.js";
import type { CycleReport } from "../../../../workloads/central/analysis/report-model.js";
import { openCentralDb, type CentralDb } from "../../../../workloads/central/db/connect.js";
import { migrateToLatest } from "../../../../workloads/central/db/migrate.js";
import { importBundle } from "../../../../workloads/central/import/import-bundle.js";
import { escapeMd, escapeXml, mdCode } from "../../../../workloads/central/reports/format.js";
import { renderReport } from "../../../../workloads/central/reports/render.js";
import { makeKeys, writeCycleBundle } from "../../../support/bundles.js";
import { generateCycle } from "../../../support/cycle-data.js";
import { tempDir } from "../../../support/temp.js";

const XSD = join(import.meta.dirname, "..", "..", "..", "..", "workloads", "central", "reports", "junit.xsd");
/** Everything a tool could print that a document or a terminal would act on. */
const EVIL = "a|b\nc\r`x`*_[l](u)<script>&amp;\u001b[31m\u0007\u0085\u009b\u202e\u2066\u2028\ufffe\uffff";
const RAW_CONTROL =
  // eslint-disable-next-line no-control-regex -- what must never appear raw
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029\ufffe\uffff]/;

let dir: Awaited<ReturnType<typeof tempDir>>;
let cdb: CentralDb;
let report: CycleReport;

beforeAll(async () => {
  dir = await tempDir();
  const keys = await makeKeys(dir.path);
  const gen = generateCycle({ tier: "base", cycleId: "c-evil", timeScale: 0.01, latencyFactor: 60 });
  for (const r of gen.results) {
    r.test_name = `${r.test_name}${EVIL}`;
    r.reason = `failed: ${EVIL}`;
    r.status = "failed";
    r.metrics = { [`m${EVIL}`]: { value: 1, unit: EVIL }, ...r.metrics };
    r.validation = { status: "failed", checks: { [`chk${EVIL}`]: "failed", ...r.validation.checks } };
  }
  for (const p of gen.summary.phases)
    for (const g of p.gate.rules) {
      g.id = `${g.id}${EVIL}`;
      g.note = EVIL;
      g.outcome = "fail";
    }
  const written = await writeCycleBundle(gen, keys.key, dir.path);
  cdb = await openCentralDb(join(dir.path, "central.db"), { create: true });
  await migrateToLatest(cdb);
  await importBundle(cdb, written.path, { keyring: await loadKeyring(keys.keyringPath) });
  report = await buildCycleReport(cdb.db, { cycleId: "c-evil" });
}, 120_000);
afterAll(async () => {
  await cdb?.close();
  await dir?.remove();
});

const save = async (name: string, text: string) => {
  const path = join(dir.path, name);
  await writeFile(path, text);
  return path;
};

describe("reports of hostile tool strings", () => {
  it("JUnit stays well-formed and valid, with the strings escaped", async () => {
    const xml = await renderReport(report, "junit");
    const file = await save("evil.junit.xml", xml);
    const check = await execa("xmllint", ["--noout", "--schema", XSD, file], { reject: false });
    expect(check.stderr).toContain("validates");
    expect(xml).not.toMatch(RAW_CONTROL);
    expect(xml).toContain("&lt;script&gt;&amp;amp;\\u{001B}[31m\\u{0007}");
  });

  it("HTML stays well-formed XML with no raw control character", async () => {
    const html = await renderReport(report, "html");
    const file = await save("evil.html", html);
    const check = await execa("xmllint", ["--noout", file], { reject: false });
    expect(check.stderr).toBe("");
    expect(html).not.toMatch(RAW_CONTROL);
    expect(html).not.toContain("<script>");
  });

  it("Markdown keeps every table row on one line with its columns", async () => {
    const md = await renderReport(report, "md");
    expect(md).not.toMatch(RAW_CONTROL);
    const lines = md.split("\n");
    const start = lines.findIndex((l) => l.startsWith("| phase |"));
    const end = lines.indexOf("", start);
    const cells = (l: string) => l.split(/(?<!\\)\|/).length;
    // Unescaped pipes are the cell boundaries: every row of the phase table has the header's.
    expect(end - start).toBeGreaterThan(2);
    for (const row of lines.slice(start, end)) expect(cells(row)).toBe(cells(lines[start]!));
    expect(md).toContain(escapeMd(EVIL));
  });

  it("JSON is the same data, with controls only as escapes", async () => {
    const json = await renderReport(report, "json");
    expect(json).not.toMatch(RAW_CONTROL);
    expect(JSON.parse(json)).toStrictEqual(JSON.parse(JSON.stringify(report)));
  });
});

describe("the escapers", () => {
  it.each<[string, string, string]>([
    ["a|b", "a\\|b", "`a\\|b`"],
    ["two\nlines", "two lines", "`two lines`"],
    ["`tick`", "\\`tick\\`", "`` `tick` ``"],
    ["<b>&", "&lt;b>&amp;", "`<b>&`"],
    ["\u001b[1m", "\\\\u{001B}\\[1m", "`\\u{001B}[1m`"],
  ])("escapes %j for Markdown", (input, text, code) => {
    expect(escapeMd(input)).toBe(text);
    expect(mdCode(input)).toBe(code);
  });

  it("keeps tab and newline in XML as character references and makes controls visible", () => {
    expect(escapeXml("a\tb\nc\u0001d\uffff<")).toBe("a&#9;b&#10;c\\u{0001}d\\u{FFFF}&lt;");
  });
});
