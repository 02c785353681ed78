import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCycleReport } from "../../../../workloads/central/analysis/cycle-report.js";
import type { CycleReport } from "../../../../workloads/central/analysis/report-model.js";
import type { CentralDb } from "../../../../workloads/central/db/connect.js";
import { renderReport } from "../../../../workloads/central/reports/render.js";
import { makeKeys } from "../../../support/bundles.js";
import { cycleIdOf, importAll, writeHistory } from "../../../support/central-fixture.js";
import { tempDir } from "../../../support/temp.js";

const XSD = join(import.meta.dirname, "..", "..", "..", "..", "workloads", "central", "reports", "junit.xsd");
const NOW = new Date("2025-02-01T00:00:00Z");

let dir: Awaited<ReturnType<typeof tempDir>>;
let cdb: CentralDb;
let regressed: CycleReport;
let failed: CycleReport;

beforeAll(async () => {
  dir = await tempDir();
  const keys = await makeKeys(dir.path);
  const paths = await writeHistory(dir.path, keys, {
    cycles: 10,
    regressionFrom: 5,
    regressionFactor: 1.4,
    failingRun: 9,
    timeScale: 0.02,
  });
  cdb = await importAll(join(dir.path, "central.db"), keys.keyringPath, paths);
  regressed = await buildCycleReport(cdb.db, { cycleId: cycleIdOf(8), baseline: cycleIdOf(3), now: NOW });
  failed = await buildCycleReport(cdb.db, { cycleId: cycleIdOf(9), now: NOW });
}, 120_000);
afterAll(async () => {
  await cdb?.close();
  await dir?.remove();
});

async function save(name: string, text: string): Promise<string> {
  const path = join(dir.path, name);
  await writeFile(path, text);
  return path;
}

const xpath = async (file: string, expression: string) =>
  (await execa("xmllint", ["--xpath", expression, file])).stdout.trim();

describe("HTML report", () => {
  let html: string;
  let file: string;
  beforeAll(async () => {
    html = await renderReport(regressed, "html");
    file = await save("report.html", html);
  });

  it("is one well-formed, self-contained file under 3 MB", async () => {
    await execa("xmllint", ["--noout", file]); // throws unless well-formed
    expect(Buffer.byteLength(html)).toBeLessThan(3 * 2 ** 20);
    // Only in-document references: url(#clip…) for SVG clip paths and gradients.
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\((?!#)/i);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//i);
  });

  it("has its sections in order, the summary table first", async () => {
    const ids = (await xpath(file, "//*[local-name()='section']/@id"))
      .split(/\s+/)
      .map((a) => a.replace(/^id="|"$/g, ""));
    expect(ids).toStrictEqual([
      "summary",
      "load",
      "latency",
      "resources",
      "errors",
      "faults",
      "regions",
      "comparison",
      "history",
      "gates",
      "contracts",
      "statistics",
      "provenance",
    ]);
    expect(
      await xpath(file, "count(//*[local-name()='section'][@id='summary']//*[local-name()='table'])"),
    ).toBe("1");
    expect(
      await xpath(file, "count(//*[local-name()='section'][@id='summary']//*[local-name()='svg'])"),
    ).toBe("0");
    expect(
      await xpath(
        file,
        "count(//*[local-name()='section'][@id='summary']//*[local-name()='tbody']/*[local-name()='tr'])",
      ),
    ).toBe("21");
  });

  it.each(["load", "latency", "resources", "errors", "faults", "regions", "history"])(
    "draws the %s chart as inline SVG with marks",
    async (id) => {
      const svg = `//*[local-name()='section'][@id='${id}']//*[local-name()='svg']`;
      expect(await xpath(file, `count(${svg})`)).toBe("1");
      expect(
        Number(
          await xpath(
            file,
            `count(${svg}//*[local-name()='path' or local-name()='rect' or local-name()='line'])`,
          ),
        ),
      ).toBeGreaterThan(10);
    },
  );

  it("shows the regression and the change point it found", async () => {
    expect(
      await xpath(file, "string(//*[local-name()='section'][@id='comparison']//*[local-name()='p'])"),
    ).toMatch(/\b\d+ regressed\b/);
    expect(regressed.summary.regressions).toBeGreaterThan(0);
    expect(
      await xpath(
        file,
        "count(//*[local-name()='section'][@id='history']//*[local-name()='tbody']/*[local-name()='tr'])",
      ),
    ).toBe(String(regressed.summary.change_points));
  });
});

describe("Markdown report", () => {
  it("fits a pull-request comment: verdict, phase table, the largest changes", async () => {
    const md = await renderReport(regressed, "md");
    const lines = md.trimEnd().split("\n");
    expect(lines[0]).toBe(`## ✅ test-tiers cycle \`${cycleIdOf(8)}\` — ultimate / default: **passed**`);
    expect(lines.length).toBeLessThanOrEqual(60);
    expect(md).toContain(
      "| phase | gates | achieved rps (Σ) | p99 ms (max) | error rate (max) | CPU band | memory band |",
    );
    expect(md).toContain(
      `Against \`${cycleIdOf(3)}\` (given baseline): **${regressed.comparison.counts.regressed} regressed**`,
    );
    expect(lines.filter((l) => l.startsWith("| 🔺 regressed | env-"))).toHaveLength(10);
    expect(md).toMatch(/`load\.p99_ms` in heavy: regressed \+\d+\.\d % .* from `c005`/);
  });

  it("lists the failures of a failed cycle", async () => {
    const md = await renderReport(failed, "md");
    expect(md.split("\n")[0]).toBe(
      `## ❌ test-tiers cycle \`${cycleIdOf(9)}\` — ultimate / default: **failed**`,
    );
    expect(md).toMatch(
      /^- gate \w+\.gate\.\d \(abort\) in env-1: metric p95_latency_ms > 1000, observed \d+/m,
    );
  });
});

describe("JSON report", () => {
  it("is the whole report", async () => {
    expect(JSON.parse(await renderReport(regressed, "json"))).toStrictEqual(
      JSON.parse(JSON.stringify(regressed)),
    );
  });
});

describe("JUnit report", () => {
  it.each([
    ["a passing cycle", () => regressed],
    ["a failed cycle", () => failed],
  ])(
    "validates against the JUnit schema for %s, one test case per gate rule and contract rule",
    async (_what, report) => {
      const r = report();
      const file = await save(`junit-${r.cycle.cycle_id}.xml`, await renderReport(r, "junit"));
      const { stderr } = await execa("xmllint", ["--noout", "--schema", XSD, file]);
      expect(stderr).toBe(`${file} validates`);
      const checks = r.contracts.reduce((n, c) => n + Math.max(1, c.checks.length), 0);
      expect(await xpath(file, "count(//testcase)")).toBe(String(r.gates.length + checks));
      expect(await xpath(file, "string(/testsuites/@tests)")).toBe(String(r.gates.length + checks));
      const failing =
        r.gates.filter((g) => g.outcome === "fail").length +
        r.contracts.flatMap((c) => c.checks).filter((c) => c.outcome === "failed").length;
      expect(await xpath(file, "count(//testcase/failure)")).toBe(String(failing));
      expect(await xpath(file, "string(/testsuites/@failures)")).toBe(String(failing));
      expect(await xpath(file, "count(//testsuite)")).toBe("3");
    },
  );

  it("has failures for the failed cycle's aborted gates", async () => {
    const file = await save("junit-failed.xml", await renderReport(failed, "junit"));
    expect(Number(await xpath(file, "count(//testcase/failure[@type='abort'])"))).toBe(
      failed.summary.gate_rules.failed_abort,
    );
    expect(failed.summary.gate_rules.failed_abort).toBeGreaterThan(0);
  });

  it("the schema check can fail: a test case without a name is rejected", async () => {
    const xml = (await renderReport(regressed, "junit")).replace(
      /<testcase classname="([^"]*)" name="[^"]*"/,
      '<testcase classname="$1"',
    );
    const file = await save("junit-broken.xml", xml);
    const run = await execa("xmllint", ["--noout", "--schema", XSD, file], { reject: false });
    expect(run.exitCode).not.toBe(0);
    expect(run.stderr).toContain("The attribute 'name' is required but missing");
  });
});
