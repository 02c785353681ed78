import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadCatalog } from "../../../../tiers/catalog.js";
import { runTest } from "../../../../workloads/orchestrator/adapters/run-test.js";
import { planTest, runContext, scratchDir, validResult } from "../../support/context.js";
import { dig, evaluateCase, list, loadCase, metric, num, reportedVersion } from "../../support/fixtures.js";

/** fio prints notes before its JSON; the test finds the JSON its own way. */
const recorded = (name: string): unknown => {
  const text = loadCase("fio", name).stdout;
  return JSON.parse(text.slice(text.indexOf("\n{") + 1 || 0));
};
const contracts = loadCatalog().contracts;

describe("fio adapter on recorded outputs", () => {
  it("randrw: per-direction IOPS, bytes/s and completion latency in µs, after fio's note line", () => {
    expect(loadCase("fio", "randrw").stdout.startsWith("note:")).toBe(true);
    const job = dig(recorded("randrw"), "jobs", 0);
    const e = evaluateCase("fio", "randrw");
    expect(e.status, e.reason).toBe("passed");
    for (const d of ["read", "write"]) {
      expect(metric(e, `${d}_iops`)).toBe(num(job, d, "iops"));
      expect(metric(e, `${d}_bw`)).toBe(num(job, d, "bw_bytes"));
      expect(metric(e, `${d}_clat_mean`)).toBeCloseTo(num(job, d, "clat_ns", "mean") / 1000, 9);
      expect(metric(e, `${d}_clat_p50`)).toBe(num(job, d, "clat_ns", "percentile", "50.000000") / 1000);
      expect(metric(e, `${d}_clat_p99`)).toBe(num(job, d, "clat_ns", "percentile", "99.000000") / 1000);
      expect(metric(e, `${d}_clat_p999`)).toBe(num(job, d, "clat_ns", "percentile", "99.900000") / 1000);
    }
    expect(e.metrics.read_clat_p99?.unit).toBe("us");
    expect(e.metrics.write_bw?.unit).toBe("bytes/sec");
    expect(e.validation).toStrictEqual({ status: "passed", checks: { errors_check: "passed" } });
  });

  it("a read-only job reports the read direction only", () => {
    const e = evaluateCase("fio", "read", { rw: "read" });
    expect(e.status).toBe("passed");
    expect(Object.keys(e.metrics).filter((k) => k.startsWith("write"))).toStrictEqual([]);
    expect(metric(e, "read_iops")).toBe(num(recorded("read"), "jobs", 0, "read", "iops"));
  });

  it("a job file with two jobs: IOPS summed, percentiles the worse job's", () => {
    const jobs = list(recorded("job-file-two-jobs"), "jobs");
    expect(jobs.map((j) => dig(j, "jobname"))).toStrictEqual(["writer", "reader"]);
    const e = evaluateCase("fio", "job-file-two-jobs", { job_file: "two.fio" });
    expect(e.status).toBe("passed");
    expect(metric(e, "read_iops")).toBeCloseTo(
      num(jobs, 0, "read", "iops") + num(jobs, 1, "read", "iops"),
      6,
    );
    expect(metric(e, "write_iops")).toBeCloseTo(
      num(jobs, 0, "write", "iops") + num(jobs, 1, "write", "iops"),
      6,
    );
    const p99 = Math.max(
      ...jobs
        .filter((j) => num(j, "write", "clat_ns", "N") > 0)
        .map((j) => num(j, "write", "clat_ns", "percentile", "99.000000")),
    );
    expect(metric(e, "write_clat_p99")).toBe(p99 / 1000);
  });

  it("a job-level error (ENOSPC, exit 1 with JSON): failed, errors counted, errors_check failed", () => {
    const e = evaluateCase("fio", "enospc", { rw: "write" });
    expect(num(recorded("enospc"), "jobs", 0, "error")).toBe(28);
    expect(e.status).toBe("failed");
    expect(e.reason).toBe("fio job full failed with error 28 (ENOSPC: No space left on device)");
    expect(metric(e, "errors")).toBe(1);
    expect(e.validation).toStrictEqual({ status: "failed", checks: { errors_check: "failed" } });
  });

  it.each([
    ["bad-option", "failed", "fio exited with code 1: fio: failed parsing rw=bogus"],
    ["truncated", "invalid", "output is truncated: the JSON document ends early"],
    ["empty", "invalid", "empty output"],
    ["garbage", "invalid", 'output has no JSON object (starts with "\\u0000��\\u001b[31m{\\n�(")'],
    [
      "deep-nesting",
      "invalid",
      'output has no JSON object (starts with "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[…")',
    ],
    ["proto-keys", "invalid", "job x has no read.iops or read.bw_bytes"],
    ["huge-number", "invalid", "job x has no read.iops or read.bw_bytes"],
    ["wrong-type", "invalid", "job x has no read.iops or read.bw_bytes"],
  ])("%s → %s: %s", (name, status, reason) => {
    const e = evaluateCase("fio", name);
    expect([e.status, e.reason]).toStrictEqual([status, reason]);
  });
});

describe("fio adapter against the real fio", () => {
  const scratch = scratchDir("fio");
  afterAll(() => scratch.remove());
  const ctx = runContext(scratch.dir);
  const fioVersion = reportedVersion("fio", ["--version"], /^fio-(\S+)/);

  it("runs a parameter job in its own scratch directory and removes it afterwards", async () => {
    const test = planTest("fio", "FioContract", { rw: "randrw", size: "2M", runtime: 1 });
    const r = validResult(await runTest(test, contracts, ctx));
    expect(r.status, r.reason).toBe("passed");
    expect(r.tool).toStrictEqual({ name: "fio", version: fioVersion });
    expect(r.parameters).toMatchObject({ bs: "4k", ioengine: "psync", rwmixread: 50 });
    for (const m of ["read_iops", "write_iops", "read_clat_p99", "write_clat_p99"]) {
      expect(r.metrics[m]?.value as number, m).toBeGreaterThan(0);
    }
    expect(readdirSync(scratch.dir).filter((f) => f.startsWith("fio-"))).toStrictEqual([]);
  });

  it("runs any job file", async () => {
    const jobFile = join(scratch.dir, "mixed.fio");
    writeFileSync(
      jobFile,
      `[global]\ndirectory=${scratch.dir}\nsize=1M\nruntime=1\ntime_based\nunlink=1\n[w]\nrw=write\n[r]\nrw=randread\n`,
    );
    const r = await runTest(planTest("fio", "FioContract", { job_file: jobFile }), contracts, ctx);
    expect(r.status, r.reason).toBe("passed");
    expect(r.metrics.write_iops?.value as number).toBeGreaterThan(0);
    expect(r.metrics.read_iops?.value as number).toBeGreaterThan(0);
  });

  it("a job that hits ENOSPC fails with fio's errno, its exit code kept", async () => {
    const jobFile = join(scratch.dir, "full.fio");
    writeFileSync(jobFile, "[full]\nfilename=/dev/full\nrw=write\nbs=4k\nsize=1M\n");
    const r = validResult(
      await runTest(planTest("fio", "FioContract", { job_file: jobFile }), contracts, ctx),
    );
    expect(r.status).toBe("failed");
    expect(r.reason).toBe("fio job full failed with error 28 (ENOSPC: No space left on device)");
    expect(r.exit_code).toBe(1);
    expect(r.validation.checks).toStrictEqual({ errors_check: "failed" });
  });

  it("a directory that does not exist: failed with fio's message", async () => {
    const test = planTest("fio", "FioContract", { directory: "/nonexistent/tiers-fio", runtime: 1 });
    const r = validResult(await runTest(test, contracts, ctx));
    expect(r.status).toBe("failed");
    expect(r.reason).toBe("fio exited with code 1: fio: failed parsing directory=/nonexistent/tiers-fio");
    expect(r.raw.stderr).toMatch(/^raw\/.*\.stderr$/);
  });
});
